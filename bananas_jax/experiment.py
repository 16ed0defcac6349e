"""One search experiment: several algorithms, the same seeds, one benchmark, one workdir.

:func:`run_search` is what ``python -m launch.search`` calls. It validates the config,
writes ``config.json``, runs the trials that ``results.jsonl`` does not hold yet in
batches of ``trial_batch``, appends each batch's records as soon as they are done, and
writes ``summary.json``. Re-running the same command resumes where it stopped.
"""

import json
import pathlib
import sys
import time

import jax
import numpy as np
from absl import logging

from bananas_jax import benchmarks, results, search, spaces
from bananas_jax.io import tensorboard

# Fields that do not change any trial's result: they may differ when a run is resumed.
_RESUMABLE_FIELDS = ('algorithms', 'trials', 'trial_batch', 'workdir', 'name', 'data_path',
                     'metrics', 'multihost')
# Random architectures: the space's original sampler, or uniform over the table's cells.
SAMPLERS = ('space', 'table')


def algorithm_names(config):
  names = [n.strip() for n in config.algorithms.split(',') if n.strip()]
  if not names:
    raise ValueError(f'algorithms {config.algorithms!r} names none; accepted: '
                     f'{", ".join(search.ALGORITHMS)}')
  return names


def build(config):
  """Validates ``config`` and returns ``(benchmark, {name: algorithm})``; ValueError if bad."""
  if config.trials < 1:
    raise ValueError(f'trials must be at least 1, got {config.trials}')
  if config.trial_batch < 1:
    raise ValueError(f'trial_batch must be at least 1, got {config.trial_batch}')
  spaces.get(config.search_space)  # refuses unknown names before any data is read
  if config.sampler not in SAMPLERS:
    raise ValueError(f'unknown sampler {config.sampler!r}; accepted: {", ".join(SAMPLERS)}')
  benchmark = benchmarks.get(config.search_space, config.dataset, config.fidelity,
                             config.data_path or None)
  space = benchmark.space  # the table's own space (a synthetic table may be smaller)
  if config.sampler == 'table':
    space = spaces.UniformOverRows(space, benchmark.archs)
  if config.noisy and not benchmark.has_seeds:
    raise ValueError(f'noisy=True needs per-seed validation values, which '
                     f'{config.search_space} has at fidelity 200 only, not {config.fidelity}')
  algorithms = {}
  for name in algorithm_names(config):
    settings = config.get(name)
    algorithms[name] = search.make(name, space, config.total_queries,
                                   settings.to_dict() if settings is not None else None)
  return benchmark, algorithms


def workdir_of(config):
  if config.workdir:
    return pathlib.Path(config.workdir)
  noisy = '_noisy' if config.noisy else ''
  return pathlib.Path('runs') / (f'{config.name}_{config.search_space}_{config.dataset}_'
                                 f'{config.fidelity}ep{noisy}')


def prepare_workdir(workdir, config, records_path):
  """Creates the workdir, checks it against ``config.json`` and rewrites that file.

  A workdir holds one experiment: the shared fields (everything but the resumable ones and
  the algorithms' sections) and the section of every algorithm that already has records
  must match, so new algorithms and more trials can be added to a run, but no record is
  ever mixed with one made under other settings. Returns the records found.
  """
  current = config.to_dict()
  path = workdir / 'config.json'
  try:
    workdir.mkdir(parents=True, exist_ok=True)
    old = json.loads(path.read_text()) if path.exists() else {}
    records = results.read_records(records_path)
    with_records = {r['algorithm'] for r in records}
    sections = {k for k in set(old) | set(current)
                if isinstance(old.get(k, current.get(k)), dict)}
    compared = [k for k in set(old) | set(current) if k not in _RESUMABLE_FIELDS and
                (k not in sections or k in with_records)]
    changed = sorted(k for k in compared if k in old and old.get(k) != current.get(k))
    if changed:
      raise ValueError(f'workdir {workdir} holds a run with a different config (fields '
                       f'{", ".join(changed)}); choose another --config.workdir')
    results.write_json_atomic(path, {**old, **current})
  except OSError as e:
    raise ValueError(f'workdir {workdir} cannot be written: {e}') from e
  return records


def reference(benchmark):
  """The benchmark's optima, to put a search's numbers on scale."""
  val_opt = int(np.argmin(np.asarray(benchmark.val_error)))
  return {'name': benchmark.name, 'dataset': benchmark.dataset,
          'fidelity': benchmark.fidelity, 'best_test_error': benchmark.best_test_error,
          'val_optimum_index': val_opt,
          'val_optimum_test_error': float(benchmark.test_error[val_opt])}


def trial_records(name, trials, seeds, trial_results, benchmark, queries, wall_time_s):
  val, test = search.best_by_validation(trial_results.val_error, trial_results.test_error,
                                        queries)
  records = []
  for i, (trial, seed) in enumerate(zip(trials, seeds)):
    best = int(np.argmin(trial_results.val_error[i]))
    arch = jax.tree.map(lambda leaf: leaf[i, best], trial_results.archs)
    records.append({
        'algorithm': name, 'trial': int(trial), 'seed': int(seed), 'queries': list(queries),
        'test_error': [round(float(x), 5) for x in test[i]],
        'val_error': [round(float(x), 5) for x in val[i]],
        'best_arch': benchmark.space.to_string(arch),
        'best_index': int(trial_results.rows[i, best]),
        'wall_time_s': round(wall_time_s, 4),
    })
  return records


class Progress:
  """A one-line progress bar on stderr: trials done, step of the current batch, elapsed."""

  def __init__(self, name, total_trials, done_trials):
    self.name, self.total, self.done, self.start = name, total_trials, done_trials, time.time()

  def show(self, batch, step, steps):
    width = 30
    frac = (self.done + batch * step / steps) / self.total
    bar = '#' * int(width * frac) + '.' * (width - int(width * frac))
    sys.stderr.write(f'\r{self.name:<14} [{bar}] trials {self.done}/{self.total} '
                     f'step {step}/{steps} {time.time() - self.start:6.1f}s')
    sys.stderr.flush()

  def finish_batch(self, batch):
    self.done += batch
    if self.done == self.total:
      sys.stderr.write('\n')


def run_search(config, process_index=0, process_count=1):
  """Runs (or resumes) the experiment of ``config``; returns the summary dict.

  With several processes (``launch.search`` with ``--config.multihost``), process ``p``
  runs the trials ``t`` with ``t % process_count == p`` and appends to its own
  ``results.p<p>.jsonl``; each summary covers the records of every process so far.
  """
  benchmark, algorithms = build(config)
  workdir = workdir_of(config)
  own_file = 'results.jsonl' if process_count == 1 else f'results.p{process_index}.jsonl'
  records_path = workdir / own_file
  records = prepare_workdir(workdir, config, records_path)
  queries = list(range(10, config.total_queries + 1, 10))
  if not queries or queries[-1] != config.total_queries:
    queries.append(config.total_queries)
  for name, algorithm in algorithms.items():
    done = {r['trial'] for r in records if r['algorithm'] == name}
    mine = [t for t in range(config.trials) if t % process_count == process_index]
    todo = [t for t in mine if t not in done]
    progress = Progress(name, len(mine), len(mine) - len(todo))
    for start in range(0, len(todo), config.trial_batch):
      trials = todo[start:start + config.trial_batch]
      seeds = [config.seed + t for t in trials]
      step_ends = [time.time()]

      def on_step(step, steps, trials=trials, step_ends=step_ends):
        step_ends.append(time.time())
        progress.show(len(trials), step, steps)

      out = search.run_trials(algorithm, benchmark, seeds, config.noisy, on_step=on_step)
      per_trial = (step_ends[-1] - step_ends[0]) / len(trials)
      new = trial_records(name, trials, seeds, out, benchmark, queries, per_trial)
      results.append_records(records_path, new)
      records.extend(new)
      if config.metrics:
        write_metrics(workdir / 'tensorboard' / f'{name}_trials_{trials[0]}-{trials[-1]}',
                      out, algorithm, np.diff(step_ends))
      progress.finish_batch(len(trials))
      logging.info('%s: %d trials done in %.1fs', name, len(trials), per_trial * len(trials))
  wanted = set(algorithms)
  everyone = results.read_workdir_records(workdir)
  summary = results.summarize(
      [r for r in everyone if r['algorithm'] in wanted and r['trial'] < config.trials],
      reference(benchmark))
  results.write_json_atomic(workdir / 'summary.json', summary)
  return summary


def write_metrics(logdir, out, algorithm, step_seconds):
  """TensorBoard scalars per iteration, averaged over the batch's trials: best validation
  error so far, the model's mean absolute error on the architectures it chose (model-based
  algorithms only), and seconds per iteration."""
  writer = tensorboard.EventWriter(logdir)
  sizes = [algorithm.num_init] + [algorithm.k] * (len(step_seconds) - 1)
  ends = np.cumsum(sizes)
  best = np.minimum.accumulate(out.val_error, axis=1)
  error = np.abs(out.predicted - out.val_error)
  for i, (stop, seconds) in enumerate(zip(ends, step_seconds)):
    chosen = slice(stop - sizes[i], stop)
    writer.scalar('best_val_error', float(best[:, stop - 1].mean()), i)
    writer.scalar('seconds_per_iteration', float(seconds), i)
    if not np.isnan(out.predicted[:, chosen]).all():
      writer.scalar('predictor_mae', float(np.nanmean(error[:, chosen])), i)
  writer.close()
