"""The paper's main comparison on NAS-Bench-201: every algorithm, 3 datasets, 100 trials.

  python -m launch.sweep --config=experiments/configs/comparison.py
  python -m launch.plot --inputs=runs/sweep_comparison --out=experiments/results/comparison

One workdir per dataset under runs/sweep_comparison; each trial makes 150 queries, trial t
uses seed t. Runtime and results: see experiments/RESULTS.md.
"""

from experiments.configs import nasbench201


def get_config():
  config = nasbench201.get_config()
  config.name = 'comparison'
  config.algorithms = 'bananas,random_search,evolution,local_search,gp_bo,reinforce'
  config.trials = 100
  config.trial_batch = 100
  config.sweep_dir = ''  # '' means runs/sweep_<name>
  config.grid = 'dataset=cifar10,cifar100,imagenet16_120'
  config.points = ''
  return config
