"""The paper's main comparison on NAS-Bench-201: every algorithm, 3 datasets, 100 trials.

  python -m launch.sweep --config=experiments/configs/comparison.py
  python -m launch.plot --inputs=runs/sweep_comparison --out=experiments/results/comparison

One workdir per dataset under runs/sweep_comparison; each trial makes 150 queries, trial t
uses seed t. Measured on the 2-core CPU: 577 s for all 1,800 trials. Test error (%) at 150
queries, mean over 100 trials (full tables and figure in experiments/RESULTS.md):

  cifar10         local_search 5.635, evolution 5.721, bananas 5.752, gp_bo 5.867,
                  reinforce 5.888, random_search 6.148 (optimum 5.627)
  cifar100        local_search 26.499, bananas 26.517, evolution 26.970, gp_bo 27.383,
                  reinforce 27.555, random_search 28.201 (optimum 26.487)
  imagenet16_120  bananas 53.461, local_search 53.516, evolution 53.607, gp_bo 53.758,
                  reinforce 53.866, random_search 54.410 (optimum 52.689)
"""

from bananas_jax.configs import nasbench201


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
