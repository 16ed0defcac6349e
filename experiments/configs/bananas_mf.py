"""BANANAS-MF's settings, chosen on tuning seeds (issue 31): variants of ``bananas_mf`` side
by side on NAS-Bench-201's three datasets, seeds 1000-1019 (the comparison's seeds, 0-99,
are not used here).

  python -m launch.sweep --config=experiments/configs/bananas_mf.py:1   # and :2, :3

Round 1 ran the first defaults (local-search candidates from 3 parents, features as model
inputs only) and one change each; round 2 ran BANANAS' mutations as candidates, without
and with the free features choosing the first screening and as model inputs. Round 2's
last variant became the defaults. Round 3 (after the comparison had shown CIFAR-100
stalling at 150) let a full training take any screened cell not yet trained in full
(``promote='all'``), with pools of 4 and 2, against round 2's defaults; it became the
default, so rounds 1 and 2 spell out ``promote='pool'``, what they ran. The comparison
against the other searches is the multi-fidelity sweep's ``bananas_mf`` part
(experiments/configs/multifidelity.py). What was measured: experiments/RESULTS.md,
"BANANAS-MF".
"""

from bananas_jax.configs import nasbench201

# Round 1 (seeds 1000-1019, CIFAR-10 and CIFAR-100): one setting changed each from the
# first defaults, which these spell out.
FIRST = dict(acq_opt='local_search', num_parents=3, zero_cost_pool=0, promote='pool')
ROUND_1 = {
    'bananas_mf_first': FIRST,
    'bananas_mf_k4': dict(FIRST, k=4),
    'bananas_mf_pool8': dict(FIRST, pool=8),
    'bananas_mf_nofeatures': dict(FIRST, use_features=False),
}
# Round 2 (seeds 1000-1019, 3 datasets): BANANAS' mutations as candidates; the features
# choosing the first screening, and as model inputs.
MUTATION = dict(acq_opt='mutation', num_parents=5, promote='pool')
ROUND_2 = {
    'bananas_mf_mutation': dict(use_features=False, zero_cost_pool=0, **MUTATION),
    'bananas_mf_mutation_zc': dict(use_features=False, zero_cost_pool=200, **MUTATION),
    'bananas_mf_mutation_zc_features': dict(zero_cost_pool=200, **MUTATION),
}
# Round 3 (seeds 1000-1019, 3 datasets): full trainings taken from every screened cell, not
# only the pool just screened; round 2's last variant is the defaults these change.
ROUND_3 = {
    'bananas_mf_promote_all': dict(promote='all'),
    'bananas_mf_promote_all_pool2': dict(promote='all', pool=2),
}
ROUNDS = {'1': ROUND_1, '2': ROUND_2, '3': ROUND_3}


def get_config(round_='2'):
  if round_ not in ROUNDS:
    raise ValueError(f'unknown round {round_!r}; accepted: {", ".join(ROUNDS)}')
  config = nasbench201.get_config()
  variants = ROUNDS[round_]
  for label, settings in variants.items():
    config[label] = nasbench201.algorithm_section('bananas_mf', algorithm='bananas_mf',
                                                  **settings)
  config.algorithms = ','.join(variants)
  config.seed = 1000
  config.trials = 20
  config.trial_batch = 20
  config.total_queries = 150
  config.name = f'bananas_mf_tune{round_}'
  config.sweep_dir = ''  # '' means runs/sweep_<name>
  config.grid = 'dataset=cifar10,cifar100,imagenet16_120'
  config.points = ''
  return config
