"""The main job: BANANAS and random search on NAS-Bench-201 CIFAR-10, 150 queries.

  python -m launch.search --config=experiments/configs/nasbench201.py

Every field can be overridden on the command line, e.g. ``--config.dataset=cifar100``,
``--config.trials=100``, ``--config.bananas.acq_fn=ucb``.
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.search_space = 'nasbench201'
  config.dataset = 'cifar10'  # cifar10 | cifar100 | imagenet16_120
  config.fidelity = 200  # training epochs of the table: 200 | 12
  config.noisy = False  # True: each query sees one random seed's validation error
  config.algorithms = 'bananas,random_search'  # comma-separated names
  config.trials = 50
  config.trial_batch = 50  # trials run together in one vmapped batch
  config.total_queries = 150
  config.seed = 0  # trial t uses seed + t
  config.workdir = ''  # '' means runs/<search_space>_<dataset>_<fidelity>ep[_noisy]

  # The original BANANAS defaults (see bananas_jax.search.bananas.Bananas).
  config.bananas = ml_collections.ConfigDict(dict(
      num_init=10, k=10, encoding='trunc_path', cutoff=40, acq_fn='its', acq_opt='mutation',
      num_parents=5, num_mutations=100, mutation_rate=1.0, num_random=200,
      num_ensemble=5, num_layers=10, width=20, learning_rate=0.01, epochs=150,
      batch_size=32, loss='mae'))
  config.random_search = ml_collections.ConfigDict(dict(num_init=10, k=10))
  return config
