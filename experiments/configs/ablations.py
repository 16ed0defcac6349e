"""The paper's BANANAS ablations on NAS-Bench-201, each variant a labelled algorithm.

  python -m launch.search --config=experiments/configs/ablations.py:encoding
  python -m launch.search --config=experiments/configs/ablations.py:acq_fn
  python -m launch.search --config=experiments/configs/ablations.py:acq_opt
  python -m launch.search --config=experiments/configs/ablations.py:ensemble
  python -m launch.search --config=experiments/configs/ablations.py:model

Each runs its variants beside default BANANAS on the same seeds (``--config.dataset`` and
``--config.trials`` as usual) into ``runs/ablation_<name>_nasbench201_<dataset>_200ep``.
Measured on the 2-core CPU (CIFAR-10, 50 trials, other work running alongside): encoding
502 s, acq_fn 485 s, acq_opt 181 s, ensemble 115 s. Test error (%) at 150 queries:
encoding: adjacency 5.698, path 5.713, trunc_path 30 5.718, trunc_path 40 (default) 5.772,
categorical 5.830; acq_fn: pi 5.687, ei 5.709, its 5.772, ts 5.782, ucb 5.799, exploit
5.848; acq_opt: mutation_random 5.705, mutation 5.772, random 5.890; ensemble: 3 nets
5.761, 5 nets 5.772, 1 net 5.780. Tables, figures and what differs from the paper:
experiments/RESULTS.md.
"""

from bananas_jax.configs import nasbench201

VARIANTS = {
    'encoding': {
        'bananas_adjacency': dict(encoding='adjacency'),
        'bananas_path': dict(encoding='path'),
        'bananas_trunc30': dict(encoding='trunc_path', cutoff=30),
        'bananas_categorical': dict(encoding='categorical'),
    },
    'acq_fn': {f'bananas_{fn}': dict(acq_fn=fn) for fn in ('ucb', 'ei', 'pi', 'ts', 'exploit')},
    'acq_opt': {
        'bananas_random_cands': dict(acq_opt='random'),
        'bananas_mutation_random': dict(acq_opt='mutation_random'),
    },
    'ensemble': {
        'bananas_single_net': dict(predictor=dict(num_ensemble=1), acq_fn='exploit'),
        'bananas_ensemble3': dict(predictor=dict(num_ensemble=3)),
    },
    'model': {
        # BANANAS' loop with a GP on the path distance as its model.
        'bananas_gp_path': dict(algorithm='gp_bo', encoding='path', k=10, acq_fn='its'),
    },
}


def get_config(ablation='encoding'):
  if ablation not in VARIANTS:
    raise ValueError(f'unknown ablation {ablation!r}; accepted: {", ".join(VARIANTS)}')
  config = nasbench201.get_config()
  for label, settings in VARIANTS[ablation].items():
    settings = dict(settings)
    base = settings.pop('algorithm', 'bananas')
    config[label] = nasbench201.algorithm_section(base, algorithm=base, **settings)
  config.algorithms = ','.join(['bananas', *VARIANTS[ablation]])
  config.trials = 50
  config.name = f'ablation_{ablation}'
  return config
