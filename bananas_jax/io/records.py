"""Files that must survive a kill: atomic writes, JSON-lines records, a workdir's config.

Every file another run or process reads as a fact ("this training finished", "these trials
are done") is written here: whole files through a temporary file, ``fsync`` and
``os.replace`` (a reader sees the old file or the new one, never half of one), records as
JSON lines appended in one ``write`` each.
"""

import contextlib
import json
import os
import pathlib
import tempfile


@contextlib.contextmanager
def atomic_file(path, mode='w'):
  """Yields a temporary file beside ``path`` that replaces it when the block ends normally
  (parent directories made); on an exception ``path`` is left untouched."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  tmp = tempfile.NamedTemporaryFile(mode, dir=path.parent, prefix=f'.{path.name}.',
                                    suffix='.tmp', delete=False)
  try:
    with tmp as f:
      yield f
      f.flush()
      os.fsync(f.fileno())
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)
  except BaseException:
    pathlib.Path(tmp.name).unlink(missing_ok=True)
    raise


def write_json(path, obj):
  """Writes ``obj`` as indented JSON with sorted keys, atomically."""
  with atomic_file(path) as f:
    json.dump(obj, f, indent=2, sort_keys=True)
    f.write('\n')


def read_json(path):
  """A JSON file's content; ValueError naming the file when it is not JSON."""
  path = pathlib.Path(path)
  try:
    return json.loads(path.read_text())
  except json.JSONDecodeError as e:
    raise ValueError(f'{path} is not valid JSON ({e})') from None


def _as_lines(records):
  return ''.join(json.dumps(r, sort_keys=True) + '\n' for r in records)


def append_jsonl(path, records):
  """Appends records as JSON lines in one write, synced to disk."""
  if not records:
    return
  fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
  try:
    os.write(fd, _as_lines(records).encode())
    os.fsync(fd)
  finally:
    os.close(fd)


def read_jsonl(path, key=None, repair=True):
  """The records of a JSON-lines file, the first of each ``key(record)`` when ``key`` is given.

  The last line may have been cut short by a kill (no newline, or not JSON): it is dropped
  and, with ``repair``, the file is rewritten without it so that later appends start on a
  clean line. Use ``repair=False`` for a file another process may be appending to. A bad
  line before the last one is an error naming the file and line.
  """
  path = pathlib.Path(path)
  if not path.exists():
    return []
  lines = path.read_text().split('\n')
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
    if key is not None:
      if key(record) in seen:
        continue
      seen.add(key(record))
    records.append(record)
  if tail and repair:
    with atomic_file(path) as f:
      f.write(_as_lines(records))
  return records


def prepare_workdir(workdir, config, ignored=()):
  """Makes ``workdir`` and checks ``config`` (a dict) against the ``config.json`` there.

  Every top-level field of the saved config, except those in ``ignored``, must be equal in
  ``config`` (the records there were made under it); fields new to ``config`` are accepted.
  The saved config is then updated with ``config``. Raises ValueError naming the changed
  fields, or when the workdir cannot be written.
  """
  workdir = pathlib.Path(workdir)
  path = workdir / 'config.json'
  try:
    workdir.mkdir(parents=True, exist_ok=True)
    old = read_json(path) if path.exists() else {}
    changed = sorted(k for k in old if k not in ignored and old[k] != config.get(k))
    if changed:
      raise ValueError(f'workdir {workdir} holds a run with a different config (fields '
                       f'{", ".join(changed)}); choose another --config.workdir')
    write_json(path, {**old, **config})
  except OSError as e:
    raise ValueError(f'workdir {workdir} cannot be written: {e}') from e
