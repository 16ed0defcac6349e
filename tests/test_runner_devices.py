import json
import os
import subprocess
import sys

import jax
import numpy as np

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


def run_with_devices(count):
  flags = [f for f in os.environ['XLA_FLAGS'].split()
           if not f.startswith('--xla_force_host_platform_device_count')]
  env = dict(os.environ, PYTHONPATH=REPO,
             XLA_FLAGS=' '.join([*flags, f'--xla_force_host_platform_device_count={count}']))
  proc = subprocess.run([sys.executable, '-c', SCRIPT], env=env, cwd=REPO, capture_output=True,
                        text=True, check=True)
  return json.loads(proc.stdout.strip().splitlines()[-1])


def test_results_do_not_depend_on_the_device_count():
  assert jax.device_count() == 2  # set in conftest.py
  bench = benchmarks.load('nasbench201', 'cifar10', 200)
  algo = search.make('bananas', spaces.make('nasbench201'), 20,
                     {'predictor': {'epochs': 5, 'num_ensemble': 2}})
  here = search.run_trials(algo, bench, [0, 1, 2, 3, 4]).rows  # 5 trials padded to 6
  for count in (1, 4):
    other = run_with_devices(count)
    assert other['devices'] == count
    np.testing.assert_array_equal(other['rows'], here)
