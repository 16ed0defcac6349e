"""Optuna storages for workers on one disk or many hosts, and every use this project makes
of Optuna beyond its public API: in this module only, each with the reason, so that a new
Optuna release that moves them breaks one file.
"""

import datetime
import time
import warnings

import optuna
import sqlalchemy
from optuna.storages._heartbeat import is_heartbeat_enabled  # not exported by optuna


def open_storage(url, heartbeat_interval=None, grace_period=None, max_retries=3):
  """The Optuna storage at ``url``: a journal file (a path ending in ``.log``, for a shared
  disk) or a database URL (``sqlite:///FILE``, ``postgresql://USER@HOST/DB``,
  ``mysql://...``). With ``heartbeat_interval`` (seconds; databases only) a trial whose
  worker stopped beating for ``grace_period`` seconds is failed and queued again, at most
  ``max_retries`` times (``None``: always). Raises ValueError naming the URL when it cannot
  be opened."""
  accepted = 'a journal file PATH.log, sqlite:///FILE, postgresql://USER@HOST/DB or mysql://...'
  if not isinstance(url, str) or not url:
    raise ValueError(f'storage {url!r} is not a storage URL; accepted: {accepted}')
  try:
    if url.endswith('.log') and '://' not in url:
      return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(url))
    with warnings.catch_warnings():
      warnings.simplefilter('ignore', optuna.exceptions.ExperimentalWarning)
      retry = (optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retries)
               if heartbeat_interval else None)
      sqlite = url.startswith('sqlite')
      for attempt in range(3):
        try:
          storage = optuna.storages.RDBStorage(
              url, heartbeat_interval=heartbeat_interval, grace_period=grace_period,
              heartbeat_stale_trial_callback=retry,
              engine_kwargs={'connect_args': {'timeout': 120}} if sqlite else None)
          if sqlite:
            _begin_immediate(storage.engine)
          return storage
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError):
          # two workers creating the same new database race (a down server fails 3 times)
          if attempt == 2:
            raise
          time.sleep(0.5)
  except Exception as e:  # sqlalchemy's and the journal's errors, for any URL
    raise ValueError(f'cannot open the Optuna storage {url!r} ({type(e).__name__}: {e}); '
                     f'accepted: {accepted}') from e


def _begin_immediate(engine):
  """Optuna claims a queued trial by reading that it is WAITING, then writing RUNNING, in
  one transaction; SQLite's Python driver runs the read before the transaction begins, so
  two workers could both claim one trial (seen with two threads of one process). Here
  every transaction begins IMMEDIATE, taking the database's write lock first."""

  @sqlalchemy.event.listens_for(engine, 'connect')
  def _no_driver_transactions(dbapi_connection, _):
    dbapi_connection.isolation_level = None

  @sqlalchemy.event.listens_for(engine, 'begin')
  def _begin(connection):
    connection.exec_driver_sql('BEGIN IMMEDIATE')

  engine.dispose()  # connections opened before the listeners go


def trial_system_attrs(trial):
  """A running trial's system attributes as the storage holds them now (other workers may
  have written them); Optuna's ``Trial`` exposes none, so read them by its id."""
  return trial.storage.get_trial_system_attrs(trial._trial_id)


def set_trial_system_attr(study, trial, key, value):
  """Writes a system attribute of a running trial (Optuna 4 removed the public setter)."""
  study._storage.set_trial_system_attr(trial._trial_id, key, value)


def study_key(study):
  """What identifies a study to a sampler shared between studies: the storage's id of it
  (a study name is unique only within its storage)."""
  return id(study._storage), study._study_id


def heartbeat_enabled(study):
  return is_heartbeat_enabled(study._storage)


def fail_stale_trials(study):
  """Fails (and so retries) the trials whose workers stopped beating: Optuna does this only
  when a worker starts a trial, and a sync trial waiting on others must not wait for that."""
  with warnings.catch_warnings():
    warnings.simplefilter('ignore', optuna.exceptions.ExperimentalWarning)
    optuna.storages.fail_stale_trials(study)


def beat_once_for_the_silent(study, trials, beaten):
  """A worker killed between creating its trial and the trial's first heartbeat leaves a
  RUNNING trial that Optuna never finds stale. One heartbeat recorded here, once (the
  trial numbers in ``beaten``), for a trial older than the grace period (a live one has
  beaten by then: this only moves its last beat) lets Optuna's own check fail and retry
  it. The grace period is the storage backend's, which Optuna does not expose."""
  storage = study._storage
  interval = storage.get_heartbeat_interval()
  grace = getattr(getattr(storage, '_backend', storage), 'grace_period', None) or 2 * interval
  now = datetime.datetime.now()
  for t in trials:
    if (t.state == optuna.trial.TrialState.RUNNING and t.number not in beaten
        and (now - t.datetime_start).total_seconds() > grace + interval):
      storage.record_heartbeat(t._trial_id)
      beaten.add(t.number)
