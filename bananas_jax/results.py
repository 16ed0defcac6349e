"""Result records: atomic writing, resumable reading, summaries and the printed table.

A run's workdir holds ``config.json``, ``results.jsonl`` (one JSON line per finished
(algorithm, trial), appended as soon as it is done) and ``summary.json``.
"""

import json
import math
import os
import pathlib
import tempfile

import numpy as np


def write_json_atomic(path, obj):
  """Writes ``obj`` as JSON via a temporary file and a rename: never half-written."""
  path = pathlib.Path(path)
  with tempfile.NamedTemporaryFile('w', dir=path.parent, suffix='.tmp', delete=False) as f:
    json.dump(obj, f, indent=2, sort_keys=True)
    f.write('\n')
    f.flush()
    os.fsync(f.fileno())
  os.chmod(f.name, 0o644)
  os.replace(f.name, path)


def write_report(path, report):
  """A benchmark script's report: written atomically (parent directories made) and printed."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  write_json_atomic(path, report)
  print(json.dumps(report, indent=2))


def append_records(path, records):
  """Appends records as JSON lines, each in one write, and syncs them to disk."""
  if not records:
    return
  text = ''.join(json.dumps(r, sort_keys=True) + '\n' for r in records)
  fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
  try:
    os.write(fd, text.encode())
    os.fsync(fd)
  finally:
    os.close(fd)


def read_records(path):
  """The complete records of ``results.jsonl``, first copy of each (algorithm, trial).

  A line cut short by a kill (no newline, or not JSON) is dropped and the file rewritten
  without it, so later appends start on a clean line; earlier lines are never touched.
  """
  path = pathlib.Path(path)
  if not path.exists():
    return []
  text = path.read_text()
  lines = text.split('\n')
  complete, tail = lines[:-1], lines[-1]  # tail is '' when the file ends with a newline
  records, seen = [], set()
  for number, line in enumerate(complete, 1):
    try:
      record = json.loads(line)
    except json.JSONDecodeError:
      if number == len(complete):  # a last line cut short but newline-terminated
        tail = line
        break
      raise ValueError(f'{path}: line {number} is not a JSON record: {line[:80]!r}') from None
    key = (record['algorithm'], record['trial'])
    if key not in seen:
      seen.add(key)
      records.append(record)
  if tail:
    good = ''.join(json.dumps(r, sort_keys=True) + '\n' for r in records)
    with tempfile.NamedTemporaryFile('w', dir=path.parent, delete=False) as f:
      f.write(good)
    os.chmod(f.name, 0o644)
    os.replace(f.name, path)
  return records


def read_workdir_records(workdir):
  """The records of every process's ``results*.jsonl`` in a workdir, read without repairing
  (another process may be appending); first copy of each (algorithm, trial)."""
  records, seen = [], set()
  for path in sorted(pathlib.Path(workdir).glob('results*.jsonl')):
    for line in path.read_text().split('\n'):
      try:
        record = json.loads(line)
      except json.JSONDecodeError:
        continue  # a line being written, or cut by a kill
      if (record['algorithm'], record['trial']) not in seen:
        seen.add((record['algorithm'], record['trial']))
        records.append(record)
  return records


def summarize(records, reference):
  """Per algorithm: mean, stderr and median test error at each reported query count.

  ``reference`` holds the benchmark's ``best_test_error`` and ``val_optimum_index``; a
  trial counts as reaching the optimum when it selected the best-validation architecture.
  """
  summary = {}
  for algorithm in sorted({r['algorithm'] for r in records}):
    own = [r for r in records if r['algorithm'] == algorithm]
    test = np.array([r['test_error'] for r in own], np.float64)
    n = len(own)
    stderr = test.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.zeros(test.shape[1])
    summary[algorithm] = {
        'trials': n,
        'queries': own[0]['queries'],
        'test_error_mean': test.mean(axis=0).round(4).tolist(),
        'test_error_stderr': stderr.round(4).tolist(),
        'test_error_median': np.median(test, axis=0).round(4).tolist(),
        'reached_optimum': sum(r['best_index'] == reference['val_optimum_index'] for r in own),
        'seconds_per_trial': round(float(np.mean([r['wall_time_s'] for r in own])), 4),
    }
  return {'benchmark': reference, 'algorithms': summary}


def format_table(summary, columns=(50, 100, 150)):
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
