"""Beyond the paper (issue 15, in progress): BANANAS ingredients beside local search, on the
tuning seeds 1000 and up (settings are chosen there; results are reported on seeds 0-99).

  python -m launch.search --config=experiments/configs/bananas_variants.py \
      --config.dataset=DATASET [--config.noisy=True]

First probes on the 2-core CPU, 30 tuning trials each (about 91 s per dataset), test error
(%) at 50 / 100 / 150 queries:

  cifar10          local_search 5.754 / 5.693 / 5.636; climb + PI + adjacency 5.875 / 5.748 /
                   5.732; climb 5.877 / 5.789 / 5.795; bananas 5.928 / 5.808 / 5.763
  cifar100         local_search 27.363 / 26.554 / 26.487; bananas 27.567 / 26.614 / 26.561;
                   climb 28.054 / 26.749 / 26.584; climb + PI + adjacency 27.659 / 26.926 / 26.623
  imagenet16_120   bananas 53.930 / 53.469 / 53.463; climb + PI + adjacency 53.972 / 53.442 /
                   53.564; local_search 54.043 / 53.647 / 53.560; climb 54.139 / 53.675 / 53.580
  cifar10, noisy   climb + PI + adjacency 5.970 / 5.744 / 5.738; bananas 5.966 / 5.807 / 5.739;
  (--config.noisy) climb 5.914 / 5.830 / 5.745; local_search 5.867 / 5.813 / 5.781

Hill climbing on the ensemble's mean helps on CIFAR-10 only; deterministic local search leads
on CIFAR-10 and CIFAR-100, BANANAS on ImageNet16-120, and with noise every BANANAS variant
beats local search at 150 queries. Not yet a variant that leads everywhere.
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
