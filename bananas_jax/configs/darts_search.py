"""BANANAS on the DARTS space with real proxy trainings (the paper's DARTS experiment).

  python -m launch.search --config=bananas_jax/configs/darts_search.py \
      --config.data_dir=/data/cifar10

The paper's run: 10 random architectures, then 9 iterations of k = 10, each architecture
trained 50 epochs on 70% of the CIFAR-10 training set (``train``: the proxy of
darts_train.py); the best by validation then gets the final 600-epoch training with
``launch.train_darts``. The trainings are the workers of one Optuna study
(bananas_jax/stepwise.py), one per local device (or device group), in ``<workdir>/study.db``;
``--config.storage=URL`` on every host joins them into one study (WORKSPACE.md, DARTS). A
killed search resumes with the same command. A tiny check:
``--config.total_queries=4 --config.bananas.num_init=2 --config.bananas.k=2
--config.train.layers=2 --config.train.init_channels=4 --config.train.epochs=1``.
Not run at full size here: a proxy training would take about 216 h on this CPU (see
darts_train.py); the kill-and-resume loop is tested on a one-cell proxy.
"""

import ml_collections

from bananas_jax.configs import darts_train, nasbench201


def get_config():
  config = ml_collections.ConfigDict()
  config.search_space = 'darts'
  config.data_dir = ''  # holds cifar-10-python.tar.gz or cifar-10-batches-py/
  config.workdir = ''  # '' means runs/darts_search
  config.seed = 0
  config.total_queries = 100
  config.algorithm = 'bananas'
  config.storage = ''  # '' means <workdir>/study.db; a PostgreSQL/MySQL URL or a journal .log
  config.study_name = ''  # '' means darts_<algorithm>_seed<seed>
  config.heartbeat_s = 60  # a training silent for 3 beats is taken as lost and trained again
  config.wait_timeout_s = 2 * 24 * 3600.0  # how long a worker waits for the step before its own
  config.max_retries = 2  # of a training hit by an infrastructure fault (I/O, checkpoint)
  config.bananas = nasbench201.algorithm_section('bananas', cutoff=100)  # the DARTS cutoff
  config.train = darts_train.get_config('proxy')
  return config
