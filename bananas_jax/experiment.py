"""One search experiment: several algorithms, the same seeds, one benchmark, one workdir.

:func:`run_search` is what ``python -m launch.search`` calls. It validates the config,
writes ``config.json``, runs the trials that ``results.jsonl`` does not hold yet in
batches of ``trial_batch``, appends each batch's records as soon as they are done, and
writes ``summary.json``. Re-running the same command resumes where it stopped.
"""

import dataclasses
import pathlib
import time

import jax
import numpy as np

from bananas_jax import benchmarks, results, search, spaces
from bananas_jax.io import records, tensorboard
from bananas_jax.progress import Progress
from bananas_jax.provenance import provenance

# The workdir's resumable fields: they change no result, so they may differ when it is run
# again (every other field must match its config.json).
RESUMABLE_FIELDS = ('algorithms', 'trials', 'trial_batch', 'workdir', 'name', 'data_path',
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
  """Validates ``config`` and returns ``(benchmark, {name: algorithm})``; ValueError if bad.

  With a multi-fidelity search among the algorithms the benchmark is the multi-fidelity one
  (every table fidelity up to ``config.fidelity``), and :func:`table_for` gives each
  algorithm its own view; the searches' unset ``fidelities`` become the table's."""
  if config.trials < 1:
    raise ValueError(f'trials must be at least 1, got {config.trials}')
  if config.trial_batch < 1:
    raise ValueError(f'trial_batch must be at least 1, got {config.trial_batch}')
  spaces.make(config.search_space)  # refuses unknown names before any data is read
  if config.sampler not in SAMPLERS:
    raise ValueError(f'unknown sampler {config.sampler!r}; accepted: {", ".join(SAMPLERS)}')
  sections = {name: config[name].to_dict() if config.get(name) is not None else None
              for name in algorithm_names(config)}
  multi = [name for name, settings in sections.items()
           if search.is_multi_fidelity(search.algorithm_class(name, settings))]
  if multi and config.noisy:
    raise ValueError(f'noisy=True with the multi-fidelity searches {", ".join(multi)}: '
                     f'lower fidelities have one value per architecture, not one per seed')
  load = benchmarks.load_multifidelity if multi else benchmarks.load
  benchmark = load(config.search_space, config.dataset, config.fidelity,
                   config.data_path or None)
  table = getattr(benchmark, 'full', benchmark)
  space = table.space  # the table's own space (a synthetic table may be smaller)
  if config.sampler == 'table':
    space = spaces.UniformOverRows(space, table.archs)
  if config.noisy and not table.has_seeds:
    raise ValueError(f'noisy=True needs per-seed validation values, which '
                     f'{config.search_space} has at fidelity 200 only, not {config.fidelity}')
  algorithms = {name: search.make(name, space, config.total_queries, settings)
                for name, settings in sections.items()}
  for name in multi:
    algorithms[name] = search.with_fidelities(algorithms[name], benchmark.fidelities)
  takes_features = [name for name, a in algorithms.items() if hasattr(a, 'cell_features')]
  columns = (benchmarks.free_features(config.search_space, config.dataset) if takes_features
             else {})
  if columns:
    features = search.CellFeatures.of(table.space, table.archs, columns)
    for name in takes_features:
      algorithms[name] = dataclasses.replace(algorithms[name], cell_features=features)
  return benchmark, algorithms


def table_for(algorithm, benchmark):
  """The benchmark ``algorithm`` queries: the multi-fidelity one for multi-fidelity
  searches, its full fidelity for the others (the same table as a single-fidelity run)."""
  if search.is_multi_fidelity(algorithm) or not hasattr(benchmark, 'full'):
    return benchmark
  return benchmark.full


def workdir_of(config):
  """The experiment's workdir: ``config.workdir``, or one named after the run."""
  if config.workdir:
    return pathlib.Path(config.workdir)
  noisy = '_noisy' if config.noisy else ''
  return pathlib.Path('runs') / (f'{config.name}_{config.search_space}_{config.dataset}_'
                                 f'{config.fidelity}ep{noisy}')


def prepare_workdir(workdir, config, records_path):
  """Creates the workdir, checks it against its ``config.json`` and updates that file.

  A workdir holds one experiment: the shared fields (everything but the resumable ones and
  the algorithms' sections) and the section of every algorithm that already has records
  must match, so new algorithms and more trials can be added to a run, but no record is
  ever mixed with one made under other settings. Returns the records found.
  """
  found = records.read_jsonl(records_path, key=results.record_key)
  current = config.to_dict()
  saved = workdir / 'config.json'
  old = records.read_json(saved) if saved.exists() else {}
  with_records = {r['algorithm'] for r in found}
  sections_without_records = {k for k in {**old, **current} if k not in with_records
                              and isinstance(current.get(k, old.get(k)), dict)}
  records.prepare_workdir(workdir, current,
                          ignored=set(RESUMABLE_FIELDS) | sections_without_records)
  return found


def reference(benchmark):
  """The benchmark's optima, to put a search's numbers on scale, and the mean time of one
  full-fidelity training: the unit of the simulated budgets results are reported at."""
  benchmark = getattr(benchmark, 'full', benchmark)
  val_opt = int(np.argmin(np.asarray(benchmark.val_error)))
  return {'name': benchmark.name, 'dataset': benchmark.dataset,
          'fidelity': benchmark.fidelity, 'best_test_error': benchmark.best_test_error,
          'val_optimum_index': val_opt,
          'val_optimum_test_error': float(benchmark.test_error[val_opt]),
          'full_training_s': round(float(np.mean(np.asarray(benchmark.train_time))), 3)}


def trial_records(name, trials, seeds, trial_results, benchmark, queries, wall_time_s):
  """One record per trial. Only full-fidelity queries can be the answer: ``test_error`` and
  ``val_error`` are None after q queries without one. ``train_time_s`` is the search's
  simulated cost, the benchmark's training time of the first q queries summed, at each
  reported q, and ``spent_s`` that of the whole trial; ``cost_trace`` the answer against
  that cost (:func:`search.runner.cost_trace`), from which results are read at any
  simulated budget."""
  full = getattr(benchmark, 'full', benchmark)
  reported = trial_results.epochs == full.fidelity
  val, test = search.best_by_validation(trial_results.val_error, trial_results.test_error,
                                        queries, reported)
  cost = np.cumsum(trial_results.train_time, axis=1)[:, np.asarray(queries) - 1]
  rounded = lambda values, digits: [None if np.isnan(x) else round(float(x), digits)
                                    for x in values]
  new = []
  for i, (trial, seed) in enumerate(zip(trials, seeds)):
    best = int(np.argmin(np.where(reported[i], trial_results.val_error[i], np.inf)))
    answered = bool(reported[i].any())
    arch = jax.tree.map(lambda leaf: leaf[i, best], trial_results.archs)
    trace = search.cost_trace(trial_results.val_error[i], trial_results.test_error[i],
                              trial_results.train_time[i], reported[i],
                              trial_results.epochs[i] / full.fidelity)
    new.append({
        'algorithm': name, 'trial': int(trial), 'seed': int(seed), 'queries': list(queries),
        'test_error': rounded(test[i], 5),
        'val_error': rounded(val[i], 5),
        'best_arch': full.space.to_string(arch) if answered else None,
        'best_index': int(trial_results.rows[i, best]) if answered else None,
        'train_time_s': [round(float(x), 1) for x in cost[i]],
        'spent_s': round(float(trial_results.train_time[i].sum()), 1),
        'cost_trace': [[round(s, 1), round(v, 5), round(t, 5), n, round(q, 4)]
                       for s, v, t, n, q in trace],
        'wall_time_s': round(wall_time_s, 4),
    })
  return new


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
  found = prepare_workdir(workdir, config, records_path)
  queries = list(range(10, config.total_queries + 1, 10))
  if not queries or queries[-1] != config.total_queries:
    queries.append(config.total_queries)
  for name, algorithm in algorithms.items():
    done = {r['trial'] for r in found if r['algorithm'] == name}
    mine = [t for t in range(config.trials) if t % process_count == process_index]
    todo = [t for t in mine if t not in done]
    batches = [todo[i:i + config.trial_batch] for i in range(0, len(todo), config.trial_batch)]
    if batches:
      _run_batches(name, algorithm, table_for(algorithm, benchmark), batches,
                   len(mine) - len(todo), len(mine), config, queries, records_path, workdir)
  wanted = set(algorithms)
  everyone = results.workdir_records(workdir)
  summary = results.summarize(
      [r for r in everyone if r['algorithm'] in wanted and r['trial'] < config.trials],
      reference(benchmark))
  records.write_json(workdir / 'summary.json', {**summary, 'provenance': provenance()})
  return summary


def _run_batches(name, algorithm, benchmark, batches, done, total, config, queries,
                 records_path, workdir):
  """Runs one algorithm's batches of trials with a progress bar; appends each batch's
  records as soon as it ends."""
  steps = search.num_steps(algorithm)
  compiled_sizes = set()
  with Progress(name, len(batches) * steps, unit='step') as bar:
    for trials in batches:
      seeds = [config.seed + t for t in trials]
      compiling = len(trials) not in compiled_sizes  # a new batch shape compiles two steps
      compiled_sizes.add(len(trials))
      bar.set_note('compiling' if compiling else f'trials {done}/{total}')
      step_ends = [time.time()]

      def on_step(step, steps, step_ends=step_ends, compiling=compiling):
        step_ends.append(time.time())
        bar.update(1, note='compiling' if compiling and step < 2 else f'trials {done}/{total}')

      out = search.run_trials(algorithm, benchmark, seeds, config.noisy, on_step=on_step)
      per_trial = (step_ends[-1] - step_ends[0]) / len(trials)
      records.append_jsonl(records_path, trial_records(name, trials, seeds, out, benchmark,
                                                       queries, per_trial))
      if config.metrics:
        write_metrics(workdir / 'tensorboard' / f'{name}_trials_{trials[0]}-{trials[-1]}',
                      out, algorithm, np.diff(step_ends))
      done += len(trials)
      bar.update(0, note=f'trials {done}/{total}')
      bar.log('%s: %d trials done in %.1fs (%d/%d)', name, len(trials),
              per_trial * len(trials), done, total)


def write_metrics(logdir, out, algorithm, step_seconds):
  """TensorBoard scalars per iteration, averaged over the batch's trials: best validation
  error so far, the model's mean absolute error on the architectures it chose (model-based
  searches, where it made predictions), and seconds per iteration."""
  writer = tensorboard.EventWriter(logdir)
  sizes = ([step.size for step in algorithm.plan()] if search.is_multi_fidelity(algorithm)
           else [algorithm.num_init] + [algorithm.k] * (len(step_seconds) - 1))
  ends = np.cumsum(sizes)
  best = np.minimum.accumulate(out.val_error, axis=1)
  error = np.abs(out.predicted - out.val_error)
  for i, (stop, seconds) in enumerate(zip(ends, step_seconds)):
    chosen = slice(stop - sizes[i], stop)
    writer.scalar('best_val_error', float(best[:, stop - 1].mean()), i)
    writer.scalar('seconds_per_iteration', float(seconds), i)
    if (isinstance(algorithm, search.ModelBasedSearch)
        and not np.isnan(out.predicted[:, chosen]).all()):
      writer.scalar('predictor_mae', float(np.nanmean(error[:, chosen])), i)
  writer.close()
