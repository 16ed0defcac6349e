"""A search's results: its records gathered, summarised per algorithm, printed as a table.

A run's workdir holds ``config.json``, ``results.jsonl`` (one JSON line per finished
(algorithm, trial), appended as soon as it is done; ``results.p<p>.jsonl`` per process on
several hosts) and ``summary.json``. Writing them is :mod:`bananas_jax.io.records`' job.
"""

import math
import pathlib

import numpy as np

from bananas_jax.io import records


def record_key(record):
  """A record's identity: one per (algorithm, trial) in a workdir."""
  return record['algorithm'], record['trial']


def workdir_records(workdir):
  """The records of every process's ``results*.jsonl`` in a workdir, read without repairing
  (another process may be appending); the first copy of each (algorithm, trial)."""
  found, seen = [], set()
  for path in sorted(pathlib.Path(workdir).glob('results*.jsonl')):
    for record in records.read_jsonl(path, repair=False):
      if record_key(record) not in seen:
        seen.add(record_key(record))
        found.append(record)
  return found


# Simulated budgets of the summaries, in full trainings: multiples of the mean time of one
# training at the table's full fidelity (``full_training_s``), the same unit on every dataset.
BUDGETS = (10, 25, 50, 100, 150)


def at_costs(trace, costs, column=2):
  """The test error (``column`` 1: the validation error) of a trial's answer once ``costs``
  simulated seconds were spent (its ``cost_trace``); NaN before its first full-fidelity
  result."""
  seconds = np.array([c[0] for c in trace] + [np.inf])
  last = np.searchsorted(seconds, np.asarray(costs, np.float64), side='right') - 1
  error = np.array([c[column] for c in trace] + [np.nan])
  return np.where(last >= 0, error[last], np.nan)


def mean_and_stderr(values):
  """Mean and standard error over trials (axis 0) of ``values[trials, points]``; NaN where
  some trial has none."""
  n = values.shape[0]
  stderr = values.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.zeros(values.shape[1])
  return values.mean(axis=0), stderr


def _stats(values):
  """Mean, stderr and median over trials (axis 0), None where some trial has no value."""
  mean, stderr = mean_and_stderr(values)
  as_list = lambda a: [None if np.isnan(x) else x for x in np.round(a, 4).tolist()]
  return as_list(mean), as_list(stderr), as_list(np.median(values, axis=0))


def summarize(found, reference, budgets=BUDGETS):
  """Per algorithm: mean, stderr and median test error at each reported query count and,
  where records have a ``cost_trace`` and ``reference`` its ``full_training_s``, at each
  simulated budget of ``budgets`` full trainings (``spent``: trials that spent at least
  that much; the others stopped earlier and count with their final answer).

  ``reference`` holds the benchmark's ``best_test_error`` and ``val_optimum_index``; a
  trial counts as reaching the optimum when it selected the best-validation architecture
  (``reached_optimum`` is None without a ``val_optimum_index``).
  """
  optimum = reference.get('val_optimum_index')
  unit = reference.get('full_training_s')
  summary = {}
  for algorithm in sorted({r['algorithm'] for r in found}):
    own = [r for r in found if r['algorithm'] == algorithm]
    test = np.array([[np.nan if x is None else x for x in r['test_error']] for r in own])
    mean, stderr, median = _stats(test)
    summary[algorithm] = {
        'trials': len(own),
        'queries': own[0]['queries'],
        'test_error_mean': mean,
        'test_error_stderr': stderr,
        'test_error_median': median,
        'reached_optimum': (None if optimum is None else
                            sum(r['best_index'] == optimum for r in own)),
        'seconds_per_trial': round(float(np.mean([r['wall_time_s'] for r in own])), 4),
    }
    if unit and all('cost_trace' in r for r in own):
      costs = np.asarray(budgets, np.float64) * unit
      mean, stderr, _ = _stats(np.array([at_costs(r['cost_trace'], costs) for r in own]))
      summary[algorithm].update({
          'budgets': list(budgets),
          'budget_hours': [round(c / 3600, 2) for c in costs],
          'test_error_at_budget_mean': mean,
          'test_error_at_budget_stderr': stderr,
          'spent': [int(sum(r['spent_s'] >= c for r in own)) for c in costs],
      })
  return {'benchmark': reference, 'algorithms': summary}


def format_summary(summary, columns=(50, 100, 150)):
  """The summary as a text table: test error (%) mean +- stderr at a few query counts."""
  algos = summary['algorithms']
  if not algos:
    return 'no finished trials'
  queries = next(iter(algos.values()))['queries']
  shown = [q for q in columns if q in queries] or [queries[-1]]
  width = max(16, *(len(name) + 2 for name in algos))
  head = (f'{"algorithm":<{width}}{"trials":>7}' + ''.join(f'{"test@" + str(q):>17}' for q in shown)
          + f'{"median":>9}{"optimum":>9}{"s/trial":>9}')
  lines = [head, '-' * len(head)]
  for name, s in sorted(algos.items(), key=lambda kv: _last(kv[1]['test_error_mean'])):
    cells = ''.join(_cell(s['test_error_mean'][queries.index(q)],
                          s['test_error_stderr'][queries.index(q)]) for q in shown)
    median = s['test_error_median'][-1]
    lines.append(f'{name:<{width}}{s["trials"]:>7}{cells}'
                 f'{"n/a" if median is None else f"{median:.3f}":>9}'
                 f'{s["reached_optimum"]:>5}/{s["trials"]:<3}{s["seconds_per_trial"]:>9.3f}')
  ref = summary['benchmark']
  lines.append(f'test error (%) of the best-by-validation architecture after q queries; '
               f'table optimum {ref["best_test_error"]:.3f}, best-validation architecture '
               f'{ref["val_optimum_test_error"]:.3f} (optimum = trials that found it)')
  with_budgets = {name: s for name, s in algos.items() if 'budgets' in s}
  if with_budgets:
    budgets = next(iter(with_budgets.values()))['budgets']
    hours = next(iter(with_budgets.values()))['budget_hours']
    head = f'{"algorithm":<{width}}' + ''.join(f'{f"@{b} ({h:g} h)":>19}'
                                                for b, h in zip(budgets, hours))
    lines += ['', head, '-' * len(head)]
    for name, s in sorted(with_budgets.items(),
                          key=lambda kv: _last(kv[1]['test_error_at_budget_mean'])):
      lines.append(f'{name:<{width}}' + ''.join(
          f'{_cell(m, e)}{"*" if spent < s["trials"] else " "}' for m, e, spent in
          zip(s['test_error_at_budget_mean'], s['test_error_at_budget_stderr'], s['spent'])))
    lines.append('test error (%) at simulated training budgets of N full trainings (hours); '
                 '* some trials stopped before spending it')
  return '\n'.join(lines)


def _last(means):
  return np.inf if means[-1] is None else means[-1]


def _cell(mean, stderr):
  return f'{"n/a":>17}' if mean is None else f'{mean:>9.3f} +- {stderr:<4.2f}'


# Whether one algorithm leads a comparison, by seeds paired across algorithms (trial t of
# every algorithm uses seed t): experiments/leaders.py.

def paired(a, b):
  """Mean and standard error of the per-seed differences ``a - b``."""
  diff = np.asarray(a) - np.asarray(b)
  return float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(len(diff)))


def verdict(diff, stderr):
  return 'leads' if diff < -stderr else 'ties' if diff <= stderr else 'behind'


def at_queries(record, queries):
  """The test error of the answer after ``queries`` queries of either fidelity."""
  made = [entry for entry in record['cost_trace'] if entry[4] <= queries + 1e-9]
  return made[-1][2] if made else math.nan


def queries_to_optimum(record, optimum):
  """Full-fidelity queries until the answer is the best-validation cell (inf if never)."""
  if record['best_index'] != optimum:
    return math.inf
  return record['cost_trace'][-1][3]


def against_best_other(errors, candidate, b):
  """``candidate`` against the algorithm with the lowest mean error at budget ``b``
  (``errors``: ``{algorithm: [seeds, budgets]}``)."""
  means = {name: float(values[:, b].mean()) for name, values in errors.items()}
  best_other = min((n for n in means if n != candidate), key=means.get)
  diff, stderr = paired(errors[candidate][:, b], errors[best_other][:, b])
  return {'means': means, 'best_other': best_other, 'difference': diff,
          'difference_stderr': stderr, 'verdict': verdict(diff, stderr)}


def compare(reference, runs, candidate, baseline, queries, against=None):
  """``candidate`` against the best other algorithm at each budget (or ``against`` alone),
  by the answer's test error and by its validation error (what the searches minimise), and
  on its own axes: the queries until it selects the best-validation cell, and the query
  axis against ``baseline``."""
  for role, name in (('candidate', candidate), ('baseline', baseline), ('against', against)):
    if name is not None and name not in runs:
      raise ValueError(f'{role} {name!r} has no records here; the algorithms are '
                       f'{", ".join(sorted(runs))}')
  seeds = sorted(runs[candidate])
  missing = {name: sorted(set(seeds) - set(own)) for name, own in runs.items()}
  if any(missing.values()):
    name = next(n for n, m in missing.items() if m)
    raise ValueError(f'{name} has no record for seeds {missing[name][:5]}: the comparison '
                     f'is paired by seed, so every algorithm needs the same ones')
  costs = np.asarray(BUDGETS, np.float64) * reference['full_training_s']
  rivals = [name for name in runs if against is None or name in (candidate, against)]
  at = lambda column: {name: np.array([at_costs(runs[name][s]['cost_trace'], costs, column)
                                       for s in seeds]) for name in rivals}
  test, val = at(2), at(1)
  cells = [{'budget': budget, **against_best_other(test, candidate, b),
            'validation': against_best_other(val, candidate, b)}
           for b, budget in enumerate(BUDGETS)]
  to_optimum = [queries_to_optimum(runs[candidate][s], reference['val_optimum_index'])
                for s in seeds]
  own = [at_queries(runs[candidate][s], queries) for s in seeds]
  base = [at_queries(runs[baseline][s], queries) for s in seeds]
  diff, stderr = paired(own, base)
  return {'trials': len(seeds), 'budgets': cells,
          'median_full_queries_to_best_validation_cell': float(np.median(to_optimum)),
          'found_best_validation_cell': int(np.isfinite(to_optimum).sum()),
          'query_axis': {'queries': queries, 'candidate': float(np.mean(own)),
                         'baseline': float(np.mean(base)), 'difference': diff,
                         'difference_stderr': stderr, 'verdict': verdict(diff, stderr)}}


def leaders_markdown(report, candidate, baseline, against=None):
  rival = against or 'the best other algorithm at each budget'
  lines = []
  for dataset, r in report.items():
    lines += [f'**{dataset}**: {candidate} against {rival} '
              f'(test error %, mean over {r["trials"]} paired seeds; difference ± its '
              f'standard error)', '',
              '| budget | ' + candidate + f' | {"against" if against else "best other"} | '
              'difference | verdict | by validation error: difference, verdict |',
              '| ---: | ---: | --- | ---: | --- | --- |']
    for c in r['budgets']:
      v = c['validation']
      lines.append(f'| {c["budget"]} | {c["means"][candidate]:.3f} | {c["best_other"]} '
                   f'{c["means"][c["best_other"]]:.3f} | {c["difference"]:+.3f} ± '
                   f'{c["difference_stderr"]:.3f} | {c["verdict"]} | {v["difference"]:+.3f} '
                   f'± {v["difference_stderr"]:.3f} against {v["best_other"]}, '
                   f'{v["verdict"]} |')
    q = r['query_axis']
    lines += ['', f'Median full-fidelity queries until the answer is the best-validation '
              f'cell: {r["median_full_queries_to_best_validation_cell"]:g} '
              f'({r["found_best_validation_cell"]} of {r["trials"]} trials found it). At '
              f'{q["queries"]:g} queries of either fidelity: {candidate} {q["candidate"]:.3f}, '
              f'{baseline} {q["baseline"]:.3f} ({q["difference"]:+.3f} ± '
              f'{q["difference_stderr"]:.3f}, {q["verdict"]}).', '']
  verdicts = [c['verdict'] for r in report.values() for c in r['budgets']]
  lines.append(f'{candidate} leads {verdicts.count("leads")}, ties {verdicts.count("ties")} '
               f'and is behind in {verdicts.count("behind")} of {len(verdicts)} cells.')
  return '\n'.join(lines) + '\n'
