"""Every algorithm on NAS-Bench-101 (CIFAR-10, 108 epochs), the paper's main table.

  python -m launch.search --config=bananas_jax/configs/nasbench101.py \
      --config.data_path=/data/nasbench_only108.tfrecord

The first run converts the official file into a cache beside it (once); without
``data_path`` the file is looked for at $NASBENCH101_PATH, then in $BANANAS_JAX_DATA
(default ~/bananas_jax_data). The paper averages 200 trials; ``--config.trials=200``.
``--config.sampler=table`` draws random cells uniformly over the table's 423,624 instead of
the original sampler (Bernoulli edges, rejected until valid).

Not run by this project: the official file cannot be fetched on its machines. Published
(test error %, 150 queries, 200 trials): BANANAS 5.923, local search 5.932, regularized
evolution 6.109, GP-BO 6.267, random search 6.341, REINFORCE 6.436. The same code path was
run on a synthetic table in the official format (experiments/RESULTS.md).
"""

from bananas_jax.configs import nasbench201


def get_config():
  config = nasbench201.get_config()
  config.search_space = 'nasbench101'
  config.dataset = 'cifar10'
  config.fidelity = 108  # epochs: 108 (nasbench_only108), or 4 | 12 | 36 from nasbench_full
  config.data_path = ''
  config.algorithms = 'bananas,random_search,evolution,local_search,gp_bo,reinforce'
  config.trials = 100
  config.trial_batch = 100
  config.name = 'search'
  return config
