"""Multi-fidelity searches beside full-fidelity ones at equal simulated training time, on
NAS-Bench-201's three datasets, 100 trials (trial t uses seed t).

  python -m launch.sweep --config=experiments/configs/multifidelity.py:full
  python -m launch.sweep --config=experiments/configs/multifidelity.py:multi
  python -m launch.sweep --config=experiments/configs/multifidelity.py:bananas_mf
  python -m launch.plot --inputs=runs/sweep_multifidelity_full,runs/sweep_multifidelity_multi,\
runs/sweep_multifidelity_bananas_mf --out=experiments/results/multifidelity
  python -m experiments.leaders --inputs=runs/sweep_multifidelity_full,\
runs/sweep_multifidelity_multi,runs/sweep_multifidelity_bananas_mf \
      --candidate=bananas_mf --out=experiments/results/multifidelity

Results are read at simulated budgets of N full trainings (N times the table's mean
200-epoch training time; 150 is what random search's 150 queries cost on average), so a
trial must run long enough to spend the largest: ``full`` (BANANAS, BANANAS screening its
proposals at 12 epochs, regularized evolution, local search, random search) makes 200
full-fidelity queries, ``multi`` (successive halving, Hyperband, ASHA, BOHB) 700
evaluations at 12 or 200 epochs, ``bananas_mf`` 150 full-fidelity queries and the
12-epoch screenings before them. Measured on the 2-core CPU at commit 6264c65: 11 min 26 s
(full) and 3 min 28 s (multi); ``bananas_mf`` at 950c389 on a 2-core Intel Xeon: 34 min
(11.6, 11.2 and 11.5 per dataset). Test error (%) once 150 full trainings' time is
spent, mean over 100 trials (``bananas_mf``: 5.644, 26.509, 53.738; it leads at 10-50
trainings on every dataset and at 100 on CIFAR-10 and CIFAR-100):

  cifar10         local_search 5.650, bananas_prefilter 5.715, evolution 5.733, bohb 5.777,
                  bananas 5.783, asha 6.014, successive_halving 6.034, hyperband 6.073,
                  random_search 6.158
  cifar100        bananas_prefilter 26.527, local_search 26.541, bananas 26.630,
                  evolution 27.041, bohb 27.102, asha 27.784, successive_halving 27.857,
                  hyperband 28.055, random_search 28.230
  imagenet16_120  bananas_prefilter 53.344, bananas 53.442, local_search 53.553,
                  evolution 53.714, bohb 53.851, asha 54.089, successive_halving 54.121,
                  hyperband 54.175, random_search 54.426

Tables at 10-150 trainings, the figure and provenance: experiments/RESULTS.md.
"""

from bananas_jax.configs import nasbench201

PARTS = {'full': ('bananas,bananas_prefilter,evolution,local_search,random_search', 200),
         'multi': ('successive_halving,hyperband,asha,bohb', 700),
         'bananas_mf': ('bananas_mf', 150)}


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
