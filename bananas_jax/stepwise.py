"""A search whose every query is expensive (a real training), run as the workers of one
Optuna study, on every accelerator of one or many hosts.

The search is :class:`bananas_jax.integrations.optuna_sampler.BananasSampler` in its synchronous mode: the
paper's steps (``num_init`` random architectures, then ``k`` per fit), every slot of the
schedule a trial of the study. On one host the study lives in ``<workdir>/study.db``
(SQLite) and each group of local devices is a worker (one device each when there are at
least ``k``; data-parallel groups when there are more devices than proposals), so a step
takes about ceil(k / devices) trainings. On many hosts, the same command with
``--config.storage=URL`` (PostgreSQL, MySQL, or a journal file on a shared disk) on each
joins the same study; hosts may join or leave while it runs: a trial whose worker stopped
(killed, preempted) is found by its heartbeat and trained again by another, resuming from
its last checkpoint. Every worker computes the same proposals from the trials in the
storage, so none holds state the others lack, and the records are the storage's: a killed
search resumes with the same command. ``optuna-dashboard URL`` shows it live.

  <workdir>/config.json            the search's settings (they may not change between runs)
  <workdir>/trainings/<slot>/      the workdir ``query_fn`` gets for slot ``slot``
  <workdir>/faults.jsonl           infrastructure faults of this host's trainings

Failures are told apart by cause (:func:`is_architecture_failure`). The architecture's own
(a diverged loss, out of memory for that network) completes its trial with
``FAILED_VAL_ERROR``, the worst possible result, and the error in its ``error`` attribute,
so the search goes on. Any other exception is a fault of the infrastructure (an I/O or
checkpoint error, a lost device): the evaluation is retried in the same workdir, so a
training resumes from its last good checkpoint, up to ``config.max_retries`` times; every
failed attempt is logged and appended to ``faults.jsonl`` and the trial counts its
``retries``. When they run out the worker stops with the error and the trial is queued
again (nothing false is told); the same command resumes it.

``query_fn(arch_text, workdir, devices) -> validation error (%)``, or a dict with
``val_error`` and extras to record; ``launch.search`` passes DARTS' proxy training
(:func:`bananas_jax.darts.train.proxy_query_fn`). It may write ``progress.json`` (with
``epoch`` and ``epochs``) in its workdir for :func:`status` to show.
"""

import json
import pathlib
import queue
import time

import jax
import optuna
from absl import logging
from optuna.trial import TrialState

from bananas_jax import spaces
from bananas_jax.integrations import optuna_sampler as sampler
from bananas_jax.integrations import optuna_slots
from bananas_jax.io import records

FAILED_VAL_ERROR = 100.0  # what a failed training is told: no architecture does worse
# The workdir's resumable fields: they change no result (nothing asked or told), so they may
# differ when it is run again and between the hosts of one study.
RESUMABLE_FIELDS = ('data_dir', 'workdir', 'storage', 'study_name', 'wait_timeout_s',
                     'max_retries', 'heartbeat_s')


def is_architecture_failure(error):
  """Whether an evaluation's exception is the architecture's own failure (told to the
  search) rather than a fault of the infrastructure (retried): a loss that is no longer
  finite (``FloatingPointError``, see :func:`bananas_jax.darts.train.train`) or memory
  exhausted by that network (XLA's ``RESOURCE_EXHAUSTED``, or ``MemoryError``)."""
  return (isinstance(error, (FloatingPointError, MemoryError))
          or 'RESOURCE_EXHAUSTED' in str(error))


def workdir_of(config):
  """The search's workdir: ``config.workdir``, or one named after its space."""
  return pathlib.Path(config.workdir or f'runs/{config.search_space}_search')


def device_groups(devices, num_jobs):
  """``devices`` split into ``min(num_jobs, len(devices))`` equal groups (leftovers idle)."""
  count = max(1, min(num_jobs, len(devices)))
  size = len(devices) // count
  return [devices[i * size:(i + 1) * size] for i in range(count)]


def open_study(config, poll_s=1.0):
  """The study of ``config`` in its storage (made on first use), with the sampler every
  worker runs. Refuses a study that another host made with settings that change results."""
  if config.max_retries < 0:
    raise ValueError(f'max_retries must be a non-negative integer, got {config.max_retries}')
  if not config.storage:
    workdir_of(config).mkdir(parents=True, exist_ok=True)
  url = config.storage or f'sqlite:///{(workdir_of(config) / "study.db").resolve()}'
  # A failed trial is always queued again: a worker whose training outlived its retries
  # stops (the search stops with it), so nothing false is told and the command resumes.
  storage = sampler.open_storage(url, heartbeat_interval=config.heartbeat_s,
                                 grace_period=3 * config.heartbeat_s, max_retries=None)
  section = config.get(config.algorithm)
  search_sampler = sampler.BananasSampler(
      spaces.make(config.search_space), config.algorithm,
      section.to_dict() if section is not None else None, mode='sync',
      total_queries=config.total_queries, seed=config.seed, max_retries=None,
      wait_timeout_s=config.wait_timeout_s, poll_s=poll_s)
  name = config.study_name or f'{config.search_space}_{config.algorithm}_seed{config.seed}'
  study = optuna.create_study(storage=storage, study_name=name, sampler=search_sampler,
                              load_if_exists=True)
  settings = json.loads(json.dumps({k: v for k, v in config.to_dict().items()
                                    if k not in RESUMABLE_FIELDS}))
  made_with = study.user_attrs.get('config')
  if made_with is None:
    study.set_user_attr('config', settings)
  elif made_with != settings:
    differ = sorted(k for k in set(made_with) | set(settings)
                    if made_with.get(k) != settings.get(k))
    raise ValueError(f'study {name!r} in {url} was made with a different config (fields '
                     f'{", ".join(differ)}); use the same settings or another study_name')
  return study


def run_stepwise(config, query_fn, poll_s=1.0, devices=None):
  """Runs (or joins, or resumes) the search of ``config`` with this host's devices (or
  ``devices``) as workers until its schedule is done; returns every result record in slot
  order.

  ``config`` has ``search_space``, ``algorithm``, ``total_queries``, ``seed``, ``workdir``,
  ``storage`` ('' for ``<workdir>/study.db``), ``study_name``, ``heartbeat_s``,
  ``wait_timeout_s`` (how long a worker waits for the step before its own),
  ``max_retries`` and the algorithm's section (``config.bananas``).
  """
  workdir = workdir_of(config)
  records.prepare_workdir(workdir, config.to_dict(), ignored=RESUMABLE_FIELDS)
  study = open_study(config, poll_s)
  algorithm = study.sampler.algorithm
  free = queue.Queue()
  groups = device_groups(devices or jax.local_devices(), max(algorithm.num_init, algorithm.k))
  for group in groups:
    free.put(group)

  def objective(trial):
    text = study.sampler.space.to_string(sampler.suggest(trial, study.sampler.space))
    slot = sampler.slot_of(trial)
    trial.set_user_attr('arch', text)
    group = free.get()
    try:
      record = _attempts(slot, text, query_fn, workdir, group, config.max_retries, trial)
    finally:
      free.put(group)
    for key, value in record.items():
      trial.set_user_attr(key, value)
    step, index = study.sampler.step_of(slot)
    if record['status'] == 'done':
      logging.info('step %d proposal %d: validation error %.3f (%.0f s%s)', step, index,
                   record['val_error'], record['end'] - record['start'],
                   f", {record['images_per_s']:.0f} images/s" if 'images_per_s' in record
                   else '')
    else:
      logging.warning('step %d proposal %d failed: %s', step, index, record['error'])
    return record['val_error']

  if len(_results(study)) < config.total_queries:
    study.optimize(objective, n_jobs=len(groups), callbacks=[optuna.study.MaxTrialsCallback(
        config.total_queries, states=(TrialState.COMPLETE,))])
  return _results(study)


def _attempts(slot, text, query_fn, workdir, group, max_retries, trial):
  """Slot ``slot``'s result record: its evaluation, retried after infrastructure faults."""
  names = [str(d) for d in group]
  record = {'devices': names, 'start': time.time(), 'retries': 0}
  while True:
    logging.info('slot %d (trial %d): training on %s', slot, trial.number, ', '.join(names))
    attempt_start = time.time()
    try:
      answer = query_fn(text, workdir / 'trainings' / str(slot), devices=group)
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
          'slot': slot, 'trial': trial.number, 'arch': text, 'devices': names,
          'attempt': record['retries'] + 1, 'error': error, 'start': attempt_start,
          'end': time.time()}])
      if record['retries'] == max_retries:
        raise RuntimeError(
            f'slot {slot}: {max_retries + 1} attempts failed on faults outside the '
            f'architecture (last: {error}; all in {workdir / "faults.jsonl"}); fix the cause '
            f'and run the same command again to resume it') from e
      record['retries'] += 1
      logging.warning('slot %d: infrastructure fault (%s); retry %d of %d from its last '
                      'checkpoint', slot, error, record['retries'], max_retries)
  record['end'] = time.time()
  return record


def _latest_by_slot(study):
  trials = study.get_trials(deepcopy=False)
  return optuna_slots.latest_by_slot(trials, optuna_slots.slots(trials))


def _results(study):
  """The records of the completed slots, in slot order."""
  latest = _latest_by_slot(study)
  done = {s: t for s, t in latest.items() if t.state == TrialState.COMPLETE}
  return [dict(t.user_attrs, slot=s, trial=t.number, step=study.sampler.step_of(s)[0],
               index=study.sampler.step_of(s)[1]) for s, t in sorted(done.items())]


def status(config):
  """One row per slot so far: step, index, arch and its state: done (validation error,
  retries after infrastructure faults), failed (error), running (or stopped: it is trained
  again once its heartbeat is stale) or queued, with the epochs done so far where its
  training wrote ``progress.json``."""
  study, workdir = open_study(config), workdir_of(config)
  rows = []
  latest = _latest_by_slot(study)
  for slot, trial in sorted(latest.items()):
    step, index = study.sampler.step_of(slot)
    row = {'slot': slot, 'step': step, 'index': index, 'arch': trial.user_attrs.get('arch', '')}
    progress_path = workdir / 'trainings' / str(slot) / 'progress.json'
    if trial.state == TrialState.COMPLETE:
      row.update({k: trial.user_attrs[k] for k in ('status', 'val_error', 'error', 'retries')
                  if k in trial.user_attrs})
    else:
      row['status'] = 'running' if trial.state == TrialState.RUNNING else 'queued'
      if progress_path.exists():
        progress = records.read_json(progress_path)
        row.update(epoch=progress['epoch'], epochs=progress['epochs'])
    rows.append(row)
  return rows


def format_status(rows):
  """:func:`status` as text, a line per slot."""
  lines = []
  for row in rows:
    retried = f' (after {row["retries"]} retries)' if row.get('retries') else ''
    epochs = f', epoch {row["epoch"]}/{row["epochs"]}' if 'epoch' in row else ''
    state = {'done': lambda r: f'done, validation error {r["val_error"]:.3f}%{retried}',
             'failed': lambda r: f'failed: {r["error"]}',
             'running': lambda r: f'running (or stopped){epochs}',
             'queued': lambda r: f'queued{epochs and epochs + " so far"}'}[row['status']](row)
    lines.append(f'step {row["step"]:>2} proposal {row["index"]:>2}: {state}')
  return '\n'.join(lines) or 'no proposals yet'
