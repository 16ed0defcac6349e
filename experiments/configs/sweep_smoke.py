"""A small sweep for tests and quick checks: 4 points x 2 BANANAS trials, short runs.

  python -m launch.sweep --config=experiments/configs/sweep_smoke.py --config.sweep_dir=DIR

Encoding x acquisition optimiser on NAS-Bench-201 CIFAR-10, 30 queries per trial and a small
ensemble: the whole grid took 32 s on the 2-core CPU (most of it compiling each point).
"""

from bananas_jax.configs import nasbench201


def get_config():
  config = nasbench201.get_config()
  config.name = 'smoke'
  config.algorithms = 'bananas'
  config.trials = 2
  config.trial_batch = 1  # records land trial by trial
  config.total_queries = 30
  config.bananas.update(k=5, predictor=dict(num_ensemble=2, epochs=20))
  config.sweep_dir = ''  # '' means runs/sweep_<name>
  config.grid = 'bananas.encoding=path,adjacency; bananas.acq_opt=mutation,random'
  config.points = ''
  return config
