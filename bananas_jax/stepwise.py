"""A search whose every query is expensive (a real training), run one step at a time on
every accelerator of one or several hosts.

``ask`` the algorithm for k architectures, evaluate them with ``query_fn``, ``tell`` it their
validation errors, and so on. A step's evaluations run concurrently, each on its own group
of local devices (one device each when there are at least k; data-parallel groups when
there are more devices than proposals), so a step takes about ceil(k / devices) trainings.
With several processes (``--config.multihost``), proposal j of every step belongs to process
``j % process_count``; every process runs the same search, records what it evaluated, waits
for the others' records in the shared workdir, and tells the same results, so every process
asks the same next step and none holds state the others lack.

Everything needed to continue is on disk as it happens, so a killed process or host loses
at most what its trainings did since their last checkpoint:

  <workdir>/config.json            the search's settings (they may not change between runs)
  <workdir>/proposals.jsonl        one line per ask: the step and its architectures (as text)
  <workdir>/trainings/<step>_<j>/  the workdir ``query_fn`` gets for proposal j
  <workdir>/results[.p<p>].jsonl   one line per finished evaluation (per process): step,
                                   index, arch, status (done | failed), val_error, error,
                                   devices, start and end time, query_fn's extras

On restart the state is rebuilt exactly by replaying ``init`` and the ``tell`` of every
finished step (the algorithm is deterministic given its key and what it was told);
an unfinished step's proposals are read back, not asked again.

Failures are told apart by cause (:func:`is_architecture_failure`). The architecture's own
(a diverged loss, out of memory for that network) is recorded as failed with its error and
told as ``FAILED_VAL_ERROR``, the worst possible result, so the search goes on. Any other
exception is a fault of the infrastructure (an I/O or checkpoint error, a lost device): the
evaluation is retried in the same workdir, so a training resumes from its last good
checkpoint, up to ``config.max_retries`` times; every failed attempt is logged and appended
to ``<workdir>/faults.jsonl``, and the result record counts its ``retries``. When the retries
run out the search stops with the error (nothing false is told); the same command resumes.

``query_fn(arch_text, workdir, devices) -> validation error (%)``, or a dict with
``val_error`` and extras to record; ``launch.search`` passes DARTS' proxy training
(:func:`bananas_jax.darts.train.proxy_query_fn`). It may write ``progress.json`` (with
``epoch`` and ``epochs``) in its workdir for :func:`status` to show.
"""

import concurrent.futures
import pathlib
import queue
import time

import jax
import numpy as np
from absl import logging

from bananas_jax import search, spaces
from bananas_jax.io import records

FAILED_VAL_ERROR = 100.0  # what a failed evaluation is told: no architecture does worse
# Settings that do not change what is asked or told: they may differ between runs.
_RESUMABLE_FIELDS = ('data_dir', 'workdir', 'multihost', 'wait_timeout_s', 'max_retries')


def is_architecture_failure(error):
  """Whether an evaluation's exception is the architecture's own failure (told to the
  search) rather than a fault of the infrastructure (retried): a loss that is no longer
  finite (``FloatingPointError``, see :func:`bananas_jax.darts.train.train`) or memory
  exhausted by that network (XLA's ``RESOURCE_EXHAUSTED``, or ``MemoryError``)."""
  return (isinstance(error, (FloatingPointError, MemoryError))
          or 'RESOURCE_EXHAUSTED' in str(error))


def workdir_of(config):
  return pathlib.Path(config.workdir or f'runs/{config.search_space}_search')


def device_groups(devices, num_jobs):
  """``devices`` split into ``min(num_jobs, len(devices))`` equal groups (leftovers idle)."""
  count = max(1, min(num_jobs, len(devices)))
  size = len(devices) // count
  return [devices[i * size:(i + 1) * size] for i in range(count)]


def run_stepwise(config, query_fn, process_index=0, process_count=1, poll_s=1.0):
  """Runs (or resumes) the search of ``config``; returns every result record in step order.

  ``config`` has ``search_space``, ``algorithm``, ``total_queries``, ``seed``, ``workdir``,
  ``wait_timeout_s`` (how long a process waits for the others' evaluations of a step),
  ``max_retries`` (of an evaluation hit by an infrastructure fault) and the algorithm's
  section (``config.bananas``).
  """
  if config.max_retries < 0:
    raise ValueError(f'max_retries must be a non-negative integer, got {config.max_retries}')
  space = spaces.make(config.search_space)
  section = config.get(config.algorithm)
  algorithm = search.make(config.algorithm, space, config.total_queries,
                          section.to_dict() if section is not None else None)
  workdir = workdir_of(config)
  records.prepare_workdir(workdir, config.to_dict(), ignored=_RESUMABLE_FIELDS)
  own = workdir / ('results.jsonl' if process_count == 1 else f'results.p{process_index}.jsonl')
  records.read_jsonl(own)  # drops a line a kill cut short, before appending
  proposals = {p['step']: p['archs'] for p in records.read_jsonl(workdir / 'proposals.jsonl',
                                                                 repair=process_index == 0)}
  init_key, step_root = jax.random.split(jax.random.key(config.seed))
  ask = jax.jit(algorithm.ask, static_argnums=2)
  tell = jax.jit(algorithm.tell)
  state = algorithm.init(init_key)
  found = []
  for step in range(search.num_steps(algorithm)):
    if step in proposals:
      archs = np.stack([space.from_string(text) for text in proposals[step]])
    else:
      archs = np.asarray(ask(jax.random.fold_in(step_root, step), state, step == 0))
      proposals[step] = [space.to_string(a) for a in archs]
      if process_index == 0:
        records.append_jsonl(workdir / 'proposals.jsonl', [{'step': step,
                                                            'archs': proposals[step]}])
    tick = time.time()
    finished = _finished(workdir, step)
    mine = [j for j in range(len(archs))
            if j % process_count == process_index and j not in finished]
    _evaluate(step, mine, proposals[step], query_fn, workdir, own, process_index,
              config.max_retries)
    results = _wait_for_step(workdir, step, len(archs), config.wait_timeout_s, poll_s)
    logging.info('step %d: %d evaluations (%d here) in %.1f s', step, len(archs), len(mine),
                 time.time() - tick)
    state = tell(state, archs, np.asarray([r['val_error'] for r in results], np.float32))
    found += results
  return found


def _finished(workdir, step):
  """``{index: record}`` of the step's evaluations recorded by any process."""
  done = {}
  for path in sorted(workdir.glob('results*.jsonl')):
    for record in records.read_jsonl(path, repair=False):
      if record['step'] == step:
        done.setdefault(record['index'], record)
  return done


def _evaluate(step, indices, texts, query_fn, workdir, own, process_index, max_retries):
  """Evaluates the proposals ``indices`` concurrently, one per group of local devices,
  appending each record to ``own`` as soon as it is done."""
  if not indices:
    return
  free = queue.Queue()
  for group in device_groups(jax.local_devices(), len(indices)):
    free.put(group)

  def evaluate(j):
    group = free.get()
    try:
      return _attempts(step, j, texts[j], query_fn, workdir, group, process_index, max_retries)
    finally:
      free.put(group)

  stop = None  # an interrupt, or a fault that outlived its retries: raised once all end
  with concurrent.futures.ThreadPoolExecutor(free.qsize()) as pool:
    for future in concurrent.futures.as_completed([pool.submit(evaluate, j) for j in indices]):
      try:
        record = future.result()
      except BaseException as e:
        stop = stop or e
        continue
      records.append_jsonl(own, [record])
      if record['status'] == 'done':
        logging.info('step %d proposal %d: validation error %.3f (%.0f s%s)', step,
                     record['index'], record['val_error'], record['end'] - record['start'],
                     f", {record['images_per_s']:.0f} images/s" if 'images_per_s' in record
                     else '')
      else:
        logging.warning('step %d proposal %d failed: %s', step, record['index'], record['error'])
  if stop is not None:
    raise stop


def _attempts(step, j, text, query_fn, workdir, group, process_index, max_retries):
  """Proposal j's result record: its evaluation, retried after infrastructure faults."""
  names = [str(d) for d in group]
  record = {'step': step, 'index': j, 'arch': text, 'process': process_index,
            'devices': names, 'start': time.time(), 'retries': 0}
  while True:
    logging.info('step %d proposal %d: training on %s', step, j, ', '.join(names))
    attempt_start = time.time()
    try:
      answer = query_fn(text, workdir / 'trainings' / f'{step}_{j}', devices=group)
      extras = dict(answer) if isinstance(answer, dict) else {'val_error': answer}
      record.update(status='done', **extras)
      record['val_error'] = float(record['val_error'])
      break
    except Exception as e:
      error = f'{type(e).__name__}: {e}'
      if is_architecture_failure(e):  # told to the search; it goes on
        record.update(status='failed', val_error=FAILED_VAL_ERROR, error=error)
        break
      records.append_jsonl(workdir / 'faults.jsonl', [{
          'step': step, 'index': j, 'arch': text, 'process': process_index, 'devices': names,
          'attempt': record['retries'] + 1, 'error': error, 'start': attempt_start,
          'end': time.time()}])
      if record['retries'] == max_retries:
        raise RuntimeError(
            f'step {step} proposal {j}: {max_retries + 1} attempts failed on faults outside '
            f'the architecture (last: {error}; all in {workdir / "faults.jsonl"}); fix the '
            f'cause and run the same command again to resume it') from e
      record['retries'] += 1
      logging.warning('step %d proposal %d: infrastructure fault (%s); retry %d of %d from '
                      'its last checkpoint', step, j, error, record['retries'], max_retries)
  record['end'] = time.time()
  return record


def _wait_for_step(workdir, step, count, timeout_s, poll_s):
  """Every record of the step, by index, once all processes have written theirs."""
  deadline = time.time() + timeout_s
  while True:
    done = _finished(workdir, step)
    if len(done) == count:
      return [done[j] for j in range(count)]
    if time.time() > deadline:
      missing = [j for j in range(count) if j not in done]
      raise TimeoutError(
          f'step {step}: after {timeout_s:.0f} s, no result for proposals '
          f'{", ".join(map(str, missing))} (their trainings: '
          f'{", ".join(str(workdir / "trainings" / f"{step}_{j}") for j in missing)}); '
          f'their processes may have died: run the same command again to resume them')
    time.sleep(poll_s)


def status(workdir):
  """One row per proposal so far: step, index, arch and its state: done (validation
  error, retries after infrastructure faults), failed (error), running or stopped (epochs
  done, from ``progress.json``), or pending."""
  workdir = pathlib.Path(workdir)
  proposals = records.read_jsonl(workdir / 'proposals.jsonl', repair=False)
  rows = []
  for proposal in proposals:
    step = proposal['step']
    done = _finished(workdir, step)
    for j, text in enumerate(proposal['archs']):
      row = {'step': step, 'index': j, 'arch': text}
      progress_path = workdir / 'trainings' / f'{step}_{j}' / 'progress.json'
      if j in done:
        row.update({k: done[j][k] for k in ('status', 'val_error', 'error', 'retries')
                    if k in done[j]})
      elif progress_path.exists():
        progress = records.read_json(progress_path)
        row.update(status='running', epoch=progress['epoch'], epochs=progress['epochs'])
      else:
        row['status'] = 'pending'
      rows.append(row)
  return rows


def format_status(rows):
  """:func:`status` as text, a line per proposal."""
  lines = []
  for row in rows:
    retried = f' (after {row["retries"]} retries)' if row.get('retries') else ''
    state = {'done': lambda r: f'done, validation error {r["val_error"]:.3f}%{retried}',
             'failed': lambda r: f'failed: {r["error"]}',
             'running': lambda r: f'running (or stopped), epoch {r["epoch"]}/{r["epochs"]}',
             'pending': lambda r: 'pending'}[row['status']](row)
    lines.append(f'step {row["step"]:>2} proposal {row["index"]:>2}: {state}')
  return '\n'.join(lines) or 'no proposals yet'
