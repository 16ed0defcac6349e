"""BANANAS in Ray Tune, with two trials at once: NAS-Bench-201 CIFAR-10 lookups, and the
digits CNN of :mod:`experiments.digits` trained for real.

  python -m experiments.ray_tune --summary_dir=experiments/results/ray_tune

Each objective is one Tune run: ``ray_tune.searcher`` (``OptunaSearch`` asking a
``BananasSampler``) proposes, Ray's workers evaluate, ``max_concurrent_trials`` at a time.
Writes ``summary.json``: per objective the values in completion order, the best, the
worker processes used and the most trials running at one moment, the architectures'
distinctness, runtime, and provenance.
"""

import json
import os
import pathlib
import tempfile
import time

from absl import app, flags

_OBJECTIVES = flags.DEFINE_list('objectives', ['table', 'digits'], 'Objectives: table, digits.')
_TRIALS = flags.DEFINE_integer('num_samples', 20, 'Trials per objective (Tune\'s word).')
_CONCURRENT = flags.DEFINE_integer('max_concurrent_trials', 2,
                                   'Trials running at once (and the CPUs Ray is given).')
_SEED = flags.DEFINE_integer('seed', 0, "The sampler's seed.")
_OUT = flags.DEFINE_string('summary_dir', 'runs/ray_tune', 'Where summary.json goes.')

# Small enough to fit and propose in seconds on a CPU driver.
SETTINGS = {'num_init': 4, 'k': 2, 'predictor': {'num_ensemble': 3, 'epochs': 50}}


def timed(evaluate):
  """A trainable reporting ``evaluate(config)``'s metrics and when and where it ran."""
  def trainable(config):
    started = time.time()
    metrics = evaluate(config)
    return dict(metrics, started=started, ended=time.time(), pid=os.getpid())
  return trainable


@timed
def table_trainable(config):
  """NAS-Bench-201 CIFAR-10's validation error of the cell (a table lookup)."""
  from bananas_jax import benchmarks, spaces
  from bananas_jax.integrations import ray_tune
  table = benchmarks.load('nasbench201', 'cifar10', 200)
  arch = ray_tune.arch_of(config, spaces.make('nasbench201'))
  return {'val_error': float(table.val_error[int(table.rows(arch[None])[0])])}


@timed
def digits_trainable(config):
  """The digits CNN's validation error (%) after its real training."""
  from experiments import digits
  val_acc, test_acc = digits.train(config, digits.split())
  return {'val_error': 100.0 * (1.0 - val_acc), 'test_error': 100.0 * (1.0 - test_acc)}


def objectives():
  """``{name: (trainable, space)}``."""
  from bananas_jax import spaces
  from experiments import digits
  return {'table': (table_trainable, spaces.make('nasbench201')),
          'digits': (digits_trainable, digits.SPACE)}


def run(objective, trials, concurrent, seed, storage_path):
  """One Tune run; its record for the summary. Ray must be initialised."""
  from ray import tune

  from bananas_jax.integrations import ray_tune
  trainable, space = objectives()[objective]
  searcher = ray_tune.searcher(space, 'val_error', 'min', settings=SETTINGS,
                               total_queries=trials, seed=seed)
  tick = time.time()
  results = tune.Tuner(
      trainable,
      tune_config=tune.TuneConfig(search_alg=searcher, num_samples=trials,
                                  max_concurrent_trials=concurrent, reuse_actors=True),
      run_config=tune.RunConfig(name=objective, storage_path=str(storage_path), verbose=0),
  ).fit()
  done = sorted((r for r in results if r.error is None), key=lambda r: r.metrics['ended'])
  spans = [(r.metrics['started'], r.metrics['ended']) for r in done]
  values = [r.metrics['val_error'] for r in done]
  return {'objective': objective, 'trials': trials, 'finished': len(done),
          'errors': sum(r.error is not None for r in results), 'seconds': time.time() - tick,
          'values': values, 'best': min(values),
          'workers': len({r.metrics['pid'] for r in done}),
          'most_at_once': max(sum(b <= t < e for b, e in spans) for t, _ in spans),
          'distinct_architectures': len({tuple(sorted(r.config.items())) for r in done}),
          'configs': [r.config for r in done]}


def main(argv):
  del argv
  import ray

  from bananas_jax import provenance
  for name in _OBJECTIVES.value:
    if name not in objectives():
      raise app.UsageError(f'unknown objective {name!r}; accepted: {", ".join(objectives())}')
  if _CONCURRENT.value < 1 or _TRIALS.value < 1:
    raise app.UsageError(f'--num_samples and --max_concurrent_trials must be at least 1, got '
                         f'{_TRIALS.value} and {_CONCURRENT.value}')
  out = pathlib.Path(_OUT.value)
  out.mkdir(parents=True, exist_ok=True)
  ray.init(num_cpus=_CONCURRENT.value, include_dashboard=False)
  with tempfile.TemporaryDirectory() as storage:
    runs = [run(name, _TRIALS.value, _CONCURRENT.value, _SEED.value, storage)
            for name in _OBJECTIVES.value]
  ray.shutdown()
  summary = {'command': 'python -m experiments.ray_tune ' + ' '.join(
      f'--{f}={v}' for f, v in (('objectives', ','.join(_OBJECTIVES.value)),
                                ('num_samples', _TRIALS.value),
                                ('max_concurrent_trials', _CONCURRENT.value),
                                ('seed', _SEED.value), ('summary_dir', _OUT.value))),
             'settings': SETTINGS, 'ray_version': ray.__version__,
             'provenance': provenance.provenance(), 'runs': runs}
  (out / 'summary.json').write_text(json.dumps(summary, indent=1))
  for r in runs:
    print(f"{r['objective']}: {r['finished']}/{r['trials']} trials on {r['workers']} workers, "
          f"at most {r['most_at_once']} at once, best val_error {r['best']:.3f}, "
          f"{r['seconds']:.0f} s")


if __name__ == '__main__':
  app.run(main)
