"""BANANAS-MF's settings, chosen on tuning seeds (issue 31): variants of ``bananas_mf`` side
by side on NAS-Bench-201's three datasets, seeds 1000-1019 (the comparison's seeds, 0-99,
are not used here).

  python -m launch.sweep --config=experiments/configs/bananas_mf.py
  python -m launch.plot --inputs=runs/sweep_bananas_mf_tune --out=/tmp/bananas_mf_tune

Each variant changes one setting of the defaults; the comparison against the other
searches is the multi-fidelity sweep's ``bananas_mf`` part (experiments/configs/
multifidelity.py). What was tried and measured: experiments/RESULTS.md, "BANANAS-MF".
"""

from bananas_jax.configs import nasbench201

VARIANTS = {
    'bananas_mf_k4': dict(k=4),
    'bananas_mf_pool8': dict(pool=8),
    'bananas_mf_nofeatures': dict(use_features=False),
}


def get_config():
  config = nasbench201.get_config()
  for label, settings in VARIANTS.items():
    config[label] = nasbench201.algorithm_section('bananas_mf', algorithm='bananas_mf',
                                                  **settings)
  config.algorithms = ','.join(['bananas_mf', *VARIANTS])
  config.seed = 1000
  config.trials = 20
  config.trial_batch = 20
  config.total_queries = 150
  config.name = 'bananas_mf_tune'
  config.sweep_dir = ''  # '' means runs/sweep_<name>
  config.grid = 'dataset=cifar10,cifar100,imagenet16_120'
  config.points = ''
  return config
