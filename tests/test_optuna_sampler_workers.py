"""Several worker processes share one study through a real storage: an SQLite file, a
journal file, a PostgreSQL server the test starts; and a worker killed mid-trial."""

import collections
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import optuna
import pytest

from bananas_jax.integrations import optuna_sampler as sampler
from bananas_jax.integrations import optuna_slots

sys.path.insert(0, os.path.dirname(__file__))
import optuna_worker  # noqa: E402

WORKER = os.path.join(os.path.dirname(__file__), 'optuna_worker.py')
pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def single_worker_slots():
  """``{slot: (params, value)}`` of the same search run by one worker in memory."""
  study = optuna.create_study(sampler=optuna_worker.make_sampler())
  study.optimize(optuna_worker.objective(), n_trials=optuna_worker.TOTAL)
  return {t.system_attrs[optuna_slots.SLOT]: (t.params, t.value) for t in study.trials}


def run_workers(url, count=3, sleep_s=0.05, stall_slot=-1):
  """Starts ``count`` workers on a new study; with ``stall_slot``, SIGKILLs the worker whose
  first attempt at that slot stalls. Returns the study when all are done."""
  name = f'workers_{time.time_ns()}'
  optuna.create_study(study_name=name, storage=sampler.open_storage(url))
  procs = [subprocess.Popen([sys.executable, WORKER, url, name, str(sleep_s), str(stall_slot)])
           for _ in range(count)]
  study = optuna.load_study(study_name=name, storage=sampler.open_storage(url))
  victim = None
  if stall_slot >= 0:
    deadline = time.time() + 240
    while victim is None:
      assert time.time() < deadline, 'no worker reached the stalling slot'
      running = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
      victim = next((p for p in procs for t in running if t.user_attrs.get('pid') == p.pid
                     and t.system_attrs.get(optuna_slots.SLOT) == stall_slot), None)
      time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
  for p in procs:
    assert p.wait(timeout=300) == (-signal.SIGKILL if p is victim else 0)
  return study


def check_every_slot_once(study, reference):
  """Every slot of the schedule completed exactly once, as the single worker ran it."""
  done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
  counts = collections.Counter(t.system_attrs[optuna_slots.SLOT] for t in done)
  assert sorted(counts) == list(range(optuna_worker.TOTAL)) and set(counts.values()) == {1}
  assert {t.system_attrs[optuna_slots.SLOT]: (t.params, t.value) for t in done} == reference
  assert study.best_value == min(value for _, value in reference.values())


def test_three_workers_on_one_sqlite_file(tmp_path, single_worker_slots):
  study = run_workers(f'sqlite:///{tmp_path / "study.db"}')
  check_every_slot_once(study, single_worker_slots)


def test_three_workers_on_one_journal_file(tmp_path, single_worker_slots):
  study = run_workers(str(tmp_path / 'study.log'))
  check_every_slot_once(study, single_worker_slots)


def test_a_killed_worker_trial_is_retried_by_another(tmp_path, single_worker_slots):
  study = run_workers(f'sqlite:///{tmp_path / "study.db"}', stall_slot=13)
  check_every_slot_once(study, single_worker_slots)
  failed = study.get_trials(states=(optuna.trial.TrialState.FAIL,))
  assert len(failed) == 1  # the killed worker's trial, failed by its stale heartbeat
  retry, = [t for t in study.trials if t.system_attrs.get('failed_trial') == failed[0].number]
  slots = optuna_slots.slots(study.trials)
  assert retry.state == optuna.trial.TrialState.COMPLETE
  assert slots[retry.number] == slots[failed[0].number]


def _postgres_bin():
  found = shutil.which('initdb') or next(iter(sorted(glob.glob(
      '/usr/lib/postgresql/*/bin/initdb'))), None)
  return os.path.dirname(found) if found else None


@pytest.fixture
def postgres_url():
  """A PostgreSQL server of its own on a free port (as the ``postgres`` user when root: the
  server refuses to run as root, and needs a directory that user can reach)."""
  bindir = _postgres_bin()
  if bindir is None:
    if os.environ.get('BANANAS_REQUIRE_POSTGRES'):
      pytest.fail('BANANAS_REQUIRE_POSTGRES is set but no PostgreSQL server is installed '
                  '(apt-get install -y postgresql)')
    pytest.skip('no PostgreSQL server binary (initdb) here; apt-get install -y postgresql')
  home = tempfile.mkdtemp(prefix='bananas-postgres-')
  as_user = []
  if os.geteuid() == 0:
    shutil.chown(home, 'postgres')
    as_user = ['runuser', '-u', 'postgres', '--']
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
  run = lambda *args: subprocess.run(as_user + list(args), check=True, capture_output=True)
  data = f'{home}/data'
  run(f'{bindir}/initdb', '-D', data, '-U', 'postgres', '--auth=trust')
  run(f'{bindir}/pg_ctl', '-D', data, '-w', '-l', f'{home}/server.log', '-o',
      f'-p {port} -k {home} -c listen_addresses=127.0.0.1', 'start')
  try:
    yield f'postgresql://postgres@127.0.0.1:{port}/postgres'
  finally:
    run(f'{bindir}/pg_ctl', '-D', data, '-m', 'immediate', 'stop')
    shutil.rmtree(home, ignore_errors=True)


def test_three_workers_on_a_postgresql_server(postgres_url, single_worker_slots):
  study = run_workers(postgres_url)
  check_every_slot_once(study, single_worker_slots)


def test_an_unreachable_storage_is_named():
  with pytest.raises(ValueError, match=r"cannot open the Optuna storage "
                                       r"'postgresql://nobody@127.0.0.1:1/none'"):
    sampler.open_storage('postgresql://nobody@127.0.0.1:1/none')
  with pytest.raises(ValueError, match=r"storage '' is not a storage URL; accepted: a journal"):
    sampler.open_storage('')
