"""Multi-fidelity searches beside full-fidelity ones at equal simulated training time, on
NAS-Bench-201's three datasets, 100 trials (trial t uses seed t).

  python -m launch.sweep --config=experiments/configs/multifidelity.py:full
  python -m launch.sweep --config=experiments/configs/multifidelity.py:multi
  python -m launch.plot --inputs=runs/sweep_multifidelity_full,runs/sweep_multifidelity_multi \
      --out=experiments/results/multifidelity

Results are read at simulated budgets of N full trainings (N times the table's mean
200-epoch training time; 150 is what random search's 150 queries cost on average), so a
trial must run long enough to spend the largest: ``full`` (BANANAS, BANANAS screening its
proposals at 12 epochs, regularized evolution, local search, random search) makes 200
full-fidelity queries, ``multi`` (successive halving, Hyperband, ASHA, BOHB) 700
evaluations at 12 or 200 epochs. Results, runtimes and provenance: experiments/RESULTS.md.
"""

from bananas_jax.configs import nasbench201

PARTS = {'full': ('bananas,bananas_prefilter,evolution,local_search,random_search', 200),
         'multi': ('successive_halving,hyperband,asha,bohb', 700)}


def get_config(part='full'):
  if part not in PARTS:
    raise ValueError(f'unknown part {part!r}; accepted: {", ".join(PARTS)}')
  config = nasbench201.get_config()
  config.name = f'multifidelity_{part}'
  config.algorithms, config.total_queries = PARTS[part]
  config.trials = 100
  config.trial_batch = 100
  config.sweep_dir = ''  # '' means runs/sweep_<name>
  config.grid = 'dataset=cifar10,cifar100,imagenet16_120'
  config.points = ''
  return config
