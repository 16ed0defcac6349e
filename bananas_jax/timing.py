"""Speed measurements of the BANANAS hot paths, for ``python -m launch.bench``.

Wall-clock seconds on whatever device JAX uses. A first call includes compilation; a
second call on other seeds hits the compilation cache, so their difference is the
compile time.
"""

import time

import jax
import jax.numpy as jnp
import numpy as np

from bananas_jax import benchmarks, search


def _timed(fn):
  tick = time.perf_counter()
  jax.block_until_ready(fn())
  return time.perf_counter() - tick


def time_ensemble_fit(algorithm, num_points=150):
  """Compile and run time of one ensemble fit on ``num_points`` architectures."""
  space, predictor = algorithm.space, algorithm.predictor
  archs = space.sample(jax.random.PRNGKey(0), num_points)
  x = space.encode(archs, algorithm.encoding, algorithm.cutoff)
  y = 10 + x.sum(axis=1)
  mask = jnp.ones(num_points, bool)
  fit = jax.jit(predictor.fit)
  compile_s = _timed(lambda: fit.lower(jax.random.PRNGKey(0), x, y, mask).compile())
  run_s = min(_timed(lambda: fit(jax.random.PRNGKey(i), x, y, mask)) for i in range(3))
  return {'compile_s': round(compile_s, 3), 'run_s': round(run_s, 3)}


def time_trials(algorithm, benchmark, num_trials):
  """Wall time of ``num_trials`` trials run batched, with and without compilation."""
  first = _timed(lambda: search.run_trials(algorithm, benchmark, np.arange(num_trials)).val_error)
  second = _timed(lambda: search.run_trials(
      algorithm, benchmark, np.arange(num_trials, 2 * num_trials)).val_error)
  return {'trials': num_trials, 'first_call_s': round(first, 3),
          'cached_s': round(second, 3), 'compile_s': round(first - second, 3),
          'seconds_per_trial': round(second / num_trials, 4),
          'seconds_per_trial_with_compile': round(first / num_trials, 4)}


def run_timings(batch_sizes=(1, 8, 32, 128), dataset='cifar10'):
  benchmark = benchmarks.get('nasbench201', dataset, 200)
  algorithm = search.make('bananas', benchmark.space, 150)
  report = {'device': str(jax.devices()[0]), 'device_count': jax.device_count(),
            'jax_version': jax.__version__, 'ensemble_fit_150x150_epochs':
            time_ensemble_fit(algorithm), 'trials': []}
  for num_trials in batch_sizes:
    report['trials'].append(time_trials(algorithm, benchmark, num_trials))
  return report
