"""Beyond the paper (issue 15): ``bananas_plus`` beside each of its ingredients alone,
``bananas`` and ``local_search``; 3 datasets, with and without noise, 100 trials.

  python -m launch.sweep --config=experiments/configs/bananas_plus.py
  python -m launch.plot --inputs=runs/sweep_bananas_plus --out=experiments/results/bananas_plus

Trial t uses seed t (seeds 0-99, the reported ones). ``bananas_plus.py:tune`` runs the same
on seeds 1000-1099 into runs/sweep_bananas_plus_tune: ``bananas_plus``'s defaults were
chosen on those seeds only (experiments/RESULTS.md). ``noisy=true``: each query sees one
training seed's validation error, as a real training would.
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
