"""The main job: BANANAS and random search on NAS-Bench-201 CIFAR-10, 150 queries.

  python -m launch.search --config=experiments/configs/nasbench201.py

Every field can be overridden on the command line, e.g. ``--config.dataset=cifar100``,
``--config.trials=100``, ``--config.bananas.acq_fn=ucb``. All the paper's baselines have
their section here, so one run compares any list of them on the same seeds:
``--config.algorithms=bananas,random_search,evolution,local_search,gp_bo,reinforce``.
"""

import ml_collections


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

  # The original BANANAS defaults (see bananas_jax.search.bananas.Bananas).
  config.bananas = ml_collections.ConfigDict(dict(
      num_init=10, k=10, encoding='trunc_path', cutoff=40, acq_fn='its', acq_opt='mutation',
      num_parents=5, num_mutations=100, mutation_rate=1.0, num_random=200,
      num_ensemble=5, num_layers=10, width=20, learning_rate=0.01, epochs=150,
      batch_size=32, loss='mae'))
  config.random_search = ml_collections.ConfigDict(dict(num_init=10, k=10))
  config.evolution = ml_collections.ConfigDict(dict(
      num_init=10, k=1, population_size=30, tournament_size=10, mutation_rate=1.0,
      num_mutations=100))
  config.local_search = ml_collections.ConfigDict(dict(num_init=10))
  config.gp_bo = ml_collections.ConfigDict(dict(
      num_init=10, k=1, distance='path', cutoff=40, length_scale=3.0, amplitude=1.5,
      noise=1e-5, fit_hypers=False, acq_fn='ucb', num_parents=5, num_mutations=100,
      mutation_rate=1.0))
  config.reinforce = ml_collections.ConfigDict(dict(
      num_init=10, k=1, learning_rate=0.1, baseline_decay=0.9))
  return config
