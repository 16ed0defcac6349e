"""The main job: BANANAS and random search on NAS-Bench-201 CIFAR-10, 150 queries.

  python -m launch.search --config=bananas_jax/configs/nasbench201.py

Every field can be overridden on the command line, e.g. ``--config.dataset=cifar100``,
``--config.trials=100``, ``--config.bananas.acq_fn=ucb``,
``--config.bananas.predictor.num_ensemble=3``. Every algorithm has its section here, made
from its dataclass's defaults (the original code's values), so one run compares any list
of them on the same seeds:
``--config.algorithms=bananas,random_search,evolution,local_search,gp_bo,reinforce,tpe``.
"""

import ml_collections

from bananas_jax import search


def algorithm_section(name, **overrides):
  """The config section of algorithm ``name``: its defaults, then ``overrides``."""
  section = ml_collections.ConfigDict(search.default_settings(name))
  section.update(overrides)
  return section


def get_config():
  config = ml_collections.ConfigDict()
  config.search_space = 'nasbench201'
  config.dataset = 'cifar10'  # cifar10 | cifar100 | imagenet16_120
  config.fidelity = 200  # training epochs of the table: 200 | 12
  config.noisy = False  # True: each query sees one random seed's validation error
  config.data_path = ''  # '' = the embedded table; or one made by launch.prepare_nasbench201
  config.sampler = 'space'  # random architectures: 'space' (original) | 'table' (uniform)
  config.algorithms = 'bananas,random_search'  # comma-separated names
  config.trials = 50
  config.trial_batch = 50  # trials run together in one vmapped batch
  config.total_queries = 150
  config.seed = 0  # trial t uses seed + t
  config.name = 'search'
  config.workdir = ''  # '' means runs/<name>_<search_space>_<dataset>_<fidelity>ep[_noisy]
  config.metrics = False  # True: per-iteration TensorBoard scalars in <workdir>/tensorboard
  config.multihost = False  # True: jax.distributed.initialize(), trials split over processes

  for name in search.ALGORITHMS:
    config[name] = algorithm_section(name)
  return config
