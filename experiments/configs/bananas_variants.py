"""Beyond the paper (issue 15, in progress): BANANAS ingredients beside local search, on the
tuning seeds 1000 and up (settings are chosen there; results are reported on seeds 0-99).

  python -m launch.search --config=experiments/configs/bananas_variants.py \
      --config.dataset=cifar10 --config.trials=30

First probe on the 2-core CPU (CIFAR-10, 30 tuning trials, 91 s in all), test error (%) at
50 / 100 / 150 queries: local_search 5.754 / 5.693 / 5.636; bananas with acquisition
optimisation by hill climbing on the ensemble mean, PI and the adjacency encoding 5.875 /
5.748 / 5.732; the same with the default ITS and truncated path encoding 5.877 / 5.789 /
5.795; bananas 5.928 / 5.808 / 5.763. Hill climbing helps early; local search still leads.
"""

from bananas_jax.configs import nasbench201

VARIANTS = {
    'bananas_climb': dict(acq_opt='local_search'),
    'bananas_climb_pi_adj': dict(acq_opt='local_search', acq_fn='pi', encoding='adjacency'),
}


def get_config():
  config = nasbench201.get_config()
  config.name = 'bananas_variants'
  config.seed = 1000  # tuning seeds: trial t uses 1000 + t
  config.trials = 30
  config.trial_batch = 30
  for label, settings in VARIANTS.items():
    config[label] = nasbench201.algorithm_section('bananas', algorithm='bananas', **settings)
  config.algorithms = ','.join(['bananas', *VARIANTS, 'local_search'])
  return config
