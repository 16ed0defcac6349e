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


def summarize(found, reference):
  """Per algorithm: mean, stderr and median test error at each reported query count.

  ``reference`` holds the benchmark's ``best_test_error`` and ``val_optimum_index``; a
  trial counts as reaching the optimum when it selected the best-validation architecture
  (``reached_optimum`` is None without a ``val_optimum_index``).
  """
  optimum = reference.get('val_optimum_index')
  summary = {}
  for algorithm in sorted({r['algorithm'] for r in found}):
    own = [r for r in found if r['algorithm'] == algorithm]
    test = np.array([r['test_error'] for r in own], np.float64)
    n = len(own)
    stderr = test.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.zeros(test.shape[1])
    summary[algorithm] = {
        'trials': n,
        'queries': own[0]['queries'],
        'test_error_mean': test.mean(axis=0).round(4).tolist(),
        'test_error_stderr': stderr.round(4).tolist(),
        'test_error_median': np.median(test, axis=0).round(4).tolist(),
        'reached_optimum': (None if optimum is None else
                            sum(r['best_index'] == optimum for r in own)),
        'seconds_per_trial': round(float(np.mean([r['wall_time_s'] for r in own])), 4),
    }
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
  for name, s in sorted(algos.items(), key=lambda kv: kv[1]['test_error_mean'][-1]):
    cells = ''.join(
        f'{s["test_error_mean"][queries.index(q)]:>9.3f} +- {s["test_error_stderr"][queries.index(q)]:<4.2f}'
        for q in shown)
    lines.append(f'{name:<{width}}{s["trials"]:>7}{cells}{s["test_error_median"][-1]:>9.3f}'
                 f'{s["reached_optimum"]:>5}/{s["trials"]:<3}{s["seconds_per_trial"]:>9.3f}')
  ref = summary['benchmark']
  lines.append(f'test error (%) of the best-by-validation architecture after q queries; '
               f'table optimum {ref["best_test_error"]:.3f}, best-validation architecture '
               f'{ref["val_optimum_test_error"]:.3f} (optimum = trials that found it)')
  return '\n'.join(lines)
