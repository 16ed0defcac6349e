"""The BANANAS paper's comparison, every algorithm of its NAS-Bench-101 table that does not
need several fidelities, on NAS-Bench-201: 3 datasets, 100 trials, 150 queries each.

  python -m launch.sweep --config=experiments/configs/paper_comparison.py
  python -m launch.plot --inputs=runs/sweep_paper_comparison_nasbench201 \
      --out=experiments/results/paper_comparison

The paper's rows and their names here: BANANAS ``bananas``, local search ``local_search``,
BONAS ``bonas``, BOHAMIANN ``bohamiann``, DNGO ``dngo``, regularized evolution
``evolution``, AlphaX ``alphax``, NASBOT ``nasbot`` (GP-BO with NASBOT's distance), GP-BO
``gp_bo``, the GCN predictor ``gcn_predictor``, random search ``random_search``, TPE
``tpe``, REINFORCE ``reinforce``; beside them NPENAS ``npenas`` (NASLib). BOHB is the
multi-fidelity issue's. On NAS-Bench-101 (one dataset, the user's file):

  python -m launch.sweep --config=experiments/configs/paper_comparison.py:nasbench101 \
      --config.data_path=/data/nasbench_only108.tfrecord

Results, runtimes and provenance: experiments/RESULTS.md.
"""

from bananas_jax.configs import nasbench101, nasbench201

ALGORITHMS = ('bananas', 'local_search', 'bonas', 'bohamiann', 'dngo', 'evolution', 'alphax',
              'nasbot', 'gp_bo', 'gcn_predictor', 'random_search', 'tpe', 'reinforce', 'npenas')


def get_config(benchmark='nasbench201'):
  if benchmark not in ('nasbench201', 'nasbench101'):
    raise ValueError(f'unknown benchmark {benchmark!r}; accepted: nasbench201, nasbench101')
  config = (nasbench201 if benchmark == 'nasbench201' else nasbench101).get_config()
  config.name = f'paper_comparison_{benchmark}'
  config.nasbot = nasbench201.algorithm_section('gp_bo', algorithm='gp_bo', encoding='nasbot')
  config.nasbot.predictor.distance = 'l1'
  config.algorithms = ','.join(ALGORITHMS)
  config.trials = 100
  config.trial_batch = 100
  config.sweep_dir = ''  # '' means runs/sweep_<name>
  config.grid = 'dataset=cifar10,cifar100,imagenet16_120' if benchmark == 'nasbench201' else ''
  config.points = ''
  return config
