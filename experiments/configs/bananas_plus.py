"""Beyond the paper (issue 15): ``bananas_plus`` beside each of its ingredients alone,
``bananas`` and ``local_search``; 3 datasets, with and without noise, 100 trials.

  python -m launch.sweep --config=experiments/configs/bananas_plus.py
  python -m launch.plot --inputs=runs/sweep_bananas_plus --out=experiments/results/bananas_plus

Trial t uses seed t (seeds 0-99, the reported ones). ``bananas_plus.py:tune`` runs the same
on seeds 1000-1099 into runs/sweep_bananas_plus_tune: ``bananas_plus``'s defaults were
chosen on those seeds only (experiments/RESULTS.md). ``noisy=true``: each query sees one
training seed's validation error, as a real training would.

Measured on the 2-core CPU: 79 min for the 6 points (part of it beside other work). Test error
(%) of bananas_plus against local_search at 50 / 100 / 150 queries:

  cifar10          5.830 / 5.696 / 5.677 vs 5.822 / 5.682 / 5.635 (behind at every count)
  cifar100         27.578 / 26.640 / 26.492 vs 27.337 / 26.646 / 26.499 (behind at 50)
  imagenet16_120   54.007 / 53.446 / 53.456 vs 54.164 / 53.662 / 53.516 (ahead)
  noisy: ahead of local_search at every count but CIFAR-100 at 50, ahead of bananas on
  both CIFAR sets and behind it on ImageNet16-120; about 2x bananas' time per trial.
Tables, figure and the tuning runs: experiments/RESULTS.md, "Beyond the paper".
"""

from bananas_jax.configs import nasbench201

INGREDIENTS = {  # each of bananas_plus' changes to bananas, alone
    'bananas_adjacency': dict(encoding='adjacency'),
    'bananas_k5': dict(k=5),
    'bananas_explore': dict(acq_opt='mutation_random', num_random=300),
}
SEEDS = {'eval': 0, 'tune': 1000}


def get_config(seeds='eval'):
  if seeds not in SEEDS:
    raise ValueError(f'unknown seeds {seeds!r}; accepted: {", ".join(SEEDS)}')
  config = nasbench201.get_config()
  for label, settings in INGREDIENTS.items():
    config[label] = nasbench201.algorithm_section('bananas', algorithm='bananas', **settings)
  config.algorithms = ','.join(['bananas', *INGREDIENTS, 'bananas_plus', 'local_search'])
  config.seed = SEEDS[seeds]
  config.trials = 100
  config.trial_batch = 100
  config.name = 'bananas_plus' if seeds == 'eval' else 'bananas_plus_tune'
  config.sweep_dir = ''  # '' means runs/sweep_<name>
  config.grid = 'dataset=cifar10,cifar100,imagenet16_120; noisy=false,true'
  config.points = ''
  return config
