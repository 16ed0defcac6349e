import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from bananas_jax import benchmarks, search, spaces

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = '''
import json, sys
import jax
from bananas_jax import benchmarks, search
bench = benchmarks.load('nasbench201', 'cifar10', 200)
algo = search.make('bananas', bench.space, 20, {'predictor': {'epochs': 5, 'num_ensemble': 2}})
out = search.run_trials(algo, bench, [0, 1, 2, 3, 4])
print(json.dumps({'devices': jax.device_count(), 'rows': out.rows.tolist()}))
'''
ALONE_SCRIPT = '''
import json
import jax
from bananas_jax import benchmarks, search
bench = benchmarks.load('nasbench201', 'cifar10', 200)
algo = search.make('bananas', bench.space, 20)  # one BANANAS step, the original ensemble
batch, alone = search.run_trials(algo, bench, [0, 1, 2]), search.run_trials(algo, bench, [1])
print(json.dumps({'devices': jax.device_count(), 'in_batch': batch.predicted[1].tolist(),
                  'alone': alone.predicted[0].tolist()}))
'''


def run_with_devices(count, script=SCRIPT, default_optimization=False):
  """The script's JSON line, run with ``count`` CPU devices (and XLA's default optimisation
  and emitters instead of the suite's cheap compiles, if asked)."""
  flags = [f for f in os.environ['XLA_FLAGS'].split()
           if not f.startswith('--xla_force_host_platform_device_count')
           and not (default_optimization and f.startswith(('--xla_backend_optimization_level',
                                                            '--xla_llvm_disable_expensive',
                                                            '--xla_cpu_use_fusion_emitters')))]
  env = dict(os.environ, PYTHONPATH=REPO,
             XLA_FLAGS=' '.join([*flags, f'--xla_force_host_platform_device_count={count}']))
  proc = subprocess.run([sys.executable, '-c', script], env=env, cwd=REPO, capture_output=True,
                        text=True, check=True)
  return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_results_do_not_depend_on_the_device_count():
  assert jax.device_count() == 2  # set in conftest.py
  bench = benchmarks.load('nasbench201', 'cifar10', 200)
  algo = search.make('bananas', spaces.make('nasbench201'), 20,
                     {'predictor': {'epochs': 5, 'num_ensemble': 2}})
  here = search.run_trials(algo, bench, [0, 1, 2, 3, 4]).rows  # 5 trials padded to 6
  other = run_with_devices(4)  # 4 devices against these 2 (one device: the next test)
  assert other['devices'] == 4
  np.testing.assert_array_equal(other['rows'], here)


@pytest.mark.slow
def test_on_one_device_a_trial_alone_equals_it_in_a_batch_to_the_last_bit():
  # XLA's CPU code for a batch of one rounds some reductions differently; the runner pads
  # every batch to two trials per device, so the model's predictions match bit for bit.
  one = run_with_devices(1, ALONE_SCRIPT, default_optimization=True)
  assert one['devices'] == 1 and one['alone'][10:] == one['in_batch'][10:]
