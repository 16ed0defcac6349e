"""The step-by-step search over expensive queries as workers of one Optuna study:
concurrency over devices, hosts joining and leaving, kills, failed evaluations, status; a
table lookup stands in for a training."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import jax
import optuna
import pytest

from bananas_jax import stepwise
from bananas_jax.integrations import optuna_sampler as sampler
from stepwise_worker import small_config, table_query

WORKER = pathlib.Path(__file__).with_name('stepwise_worker.py')
ROOT = WORKER.parents[1]


def worker(workdir, storage='', sleep_s=0.0, devices=1, k=2):
  flags = [f for f in os.environ['XLA_FLAGS'].split()
           if not f.startswith('--xla_force_host_platform_device_count')]
  env = dict(os.environ, PYTHONPATH=str(ROOT), XLA_FLAGS=' '.join(
      [*flags, f'--xla_force_host_platform_device_count={devices}']))
  pathlib.Path(workdir).mkdir(parents=True, exist_ok=True)
  return subprocess.Popen([sys.executable, str(WORKER), str(workdir), storage, str(sleep_s),
                           str(k)],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process, timeout=300):
  try:
    out, err = process.communicate(timeout=timeout)
  except subprocess.TimeoutExpired:
    process.kill()
    out, err = process.communicate()
    raise AssertionError(f'a worker did not finish in {timeout} s: {err[-5000:]}')
  assert process.returncode == 0, err[-3000:]
  return json.loads(out.strip().splitlines()[-1])


def started(workdir):
  path = pathlib.Path(workdir) / 'started.log'
  return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def same(found):
  """What a search asked and was told, record by record."""
  return [(r['step'], r['index'], r['arch'], r['val_error']) for r in found]


@pytest.fixture(scope='module')
def clean(tmp_path_factory, cifar10):
  """The records of an undisturbed search of small_config(k=2)."""
  workdir = tmp_path_factory.mktemp('clean')
  return stepwise.run_stepwise(small_config(workdir, k=2), table_query(cifar10), poll_s=0.05)


def test_resumes_after_a_kill_without_asking_or_evaluating_twice(tmp_path, cifar10, clean):
  assert len(clean) == 10 and len({r['arch'] for r in clean}) == 10  # every query new
  assert [r['step'] for r in clean] == [0] * 6 + [1] * 2 + [2] * 2
  calls = []

  def dies_at_the_eighth(text, workdir, devices):
    if len(calls) == 7:
      raise KeyboardInterrupt
    calls.append(text)
    return table_query(cifar10)(text, workdir, devices)

  config = small_config(tmp_path, k=2)
  with pytest.raises(KeyboardInterrupt):
    stepwise.run_stepwise(config, dies_at_the_eighth, poll_s=0.05)
  counted = lambda text, workdir, devices: (calls.append(text)
                                             or table_query(cifar10)(text, workdir, devices))
  resumed = stepwise.run_stepwise(config, counted, poll_s=0.05)
  assert sorted(calls) == sorted(r['arch'] for r in clean)  # each evaluated once in all
  assert same(resumed) == same(clean)  # the storage's trials asked the same architectures


@pytest.mark.slow
def test_a_step_trains_on_every_device_at_once(tmp_path):
  """Four devices, four workers: each step's trainings overlap, one per device (records
  equal to one device's: test_hosts_join_and_leave_one_study runs that on one)."""
  finish(worker(tmp_path, sleep_s=0.5, devices=4, k=4))
  log = started(tmp_path)
  for step_start in (6, 10):  # the two steps of k = 4 after the random 6
    step = log[step_start:step_start + 4]
    assert len({e['devices'][0] for e in step}) == 4  # each on its own device
    assert max(e['start'] for e in step) < min(e['end'] for e in step)  # all overlap


@pytest.mark.slow
def test_hosts_join_and_leave_one_study(tmp_path, clean):
  """Two hosts (own workdirs, one storage); one is killed mid-step and the other finishes
  the search, its trial trained again; the killed host, started again, finds it done; the
  records are one process's."""
  url = f'sqlite:///{tmp_path / "shared.db"}'
  hosts = [worker(tmp_path / f'host{h}', url, sleep_s=0.3) for h in (0, 1)]
  deadline = time.time() + 120
  while len(started(tmp_path / 'host1')) < 4 and time.time() < deadline:
    time.sleep(0.05)
  hosts[1].send_signal(signal.SIGKILL)
  found = finish(hosts[0], timeout=90)
  assert finish(worker(tmp_path / 'host1', url)) == found
  assert found == [[r['arch'], r['val_error']] for r in clean]
  log = started(tmp_path / 'host0') + started(tmp_path / 'host1')
  assert {e['arch'] for e in log} == {arch for arch, _ in found}
  assert len(log) - len(found) <= 1  # only the killed host's last one was trained twice
  assert {e['pid'] for e in log} >= {hosts[0].pid, hosts[1].pid}


def test_a_failed_evaluation_is_recorded_and_the_search_goes_on(tmp_path, cifar10, clean):
  config = small_config(tmp_path, k=2)
  broken = clean[6]['arch']  # the first proposal of the first BANANAS step
  found = stepwise.run_stepwise(config, table_query(cifar10, fail_on={broken}), poll_s=0.05)
  failed = [r for r in found if r['status'] == 'failed']
  assert [r['arch'] for r in failed] == [broken] and len(found) == 10
  assert failed[0]['val_error'] == stepwise.FAILED_VAL_ERROR
  assert failed[0]['error'] == 'FloatingPointError: loss nan in epoch 1'
  rows = stepwise.status(config)
  assert [r['status'] for r in rows].count('done') == 9
  text = stepwise.format_status(rows)
  assert 'step  1 proposal  0: failed: FloatingPointError: loss nan in epoch 1' in text


def test_infrastructure_faults_are_retried_not_told_to_the_search(tmp_path, cifar10, clean):
  flaky_arch = clean[6]['arch']  # the first proposal of the first BANANAS step
  faults = []

  def flaky(text, workdir, devices):
    if text == flaky_arch and len(faults) < 2:
      faults.append(text)
      raise OSError(f'cannot write {workdir}/checkpoints')
    return table_query(cifar10)(text, workdir, devices)

  config = small_config(tmp_path / 'flaky', k=2)
  found = stepwise.run_stepwise(config, flaky, poll_s=0.05)
  assert same(found) == same(clean) and [r['status'] for r in found] == ['done'] * 10
  assert [r['retries'] for r in found] == [0] * 6 + [2] + [0] * 3
  logged = [json.loads(line) for line in (tmp_path / 'flaky' / 'faults.jsonl').open()]
  assert [(f['slot'], f['attempt']) for f in logged] == [(6, 1), (6, 2)]
  assert logged[0]['error'].startswith('OSError: cannot write')
  text = stepwise.format_status(stepwise.status(config))
  assert (f'step  1 proposal  0: done, validation error {found[6]["val_error"]:.3f}% '
          f'(after 2 retries)') in text

  config = small_config(tmp_path / 'broken', k=2)
  config.max_retries = 1

  def broken(text, workdir, devices):
    if text == flaky_arch:
      raise OSError('disk gone')
    return table_query(cifar10)(text, workdir, devices)

  with pytest.raises(RuntimeError, match=r'slot 6: 2 attempts failed on faults outside the '
                                         r'architecture \(last: OSError: disk gone'):
    stepwise.run_stepwise(config, broken, poll_s=0.05)
  study = stepwise.open_study(config)
  told = {t.user_attrs.get('arch') for t in study.get_trials(
      states=(optuna.trial.TrialState.COMPLETE,))}
  assert flaky_arch not in told  # nothing false was told
  resumed = stepwise.run_stepwise(config, table_query(cifar10), poll_s=0.05)
  assert same(resumed) == same(clean)
  config.max_retries = -1
  with pytest.raises(ValueError, match='max_retries must be a non-negative integer, got -1'):
    stepwise.run_stepwise(config, table_query(cifar10))


@pytest.mark.parametrize('error, architecture', [
    (FloatingPointError('loss nan in epoch 1'), True),
    (RuntimeError('RESOURCE_EXHAUSTED: Out of memory while trying to allocate 9.1GiB'), True),
    (MemoryError(), True),
    (OSError('No space left on device'), False),
    (ValueError('checkpoint x is corrupt or cut short'), False),
])
def test_failures_told_apart_by_cause(error, architecture):
  assert stepwise.is_architecture_failure(error) == architecture


def test_status_of_an_unfinished_search(tmp_path, cifar10):
  config = small_config(tmp_path, k=2)
  calls = []

  def dies_in_step_one(text, workdir, devices):
    calls.append(text)
    if len(calls) == 7:
      workdir.mkdir(parents=True)
      (workdir / 'progress.json').write_text(json.dumps({'epoch': 3, 'epochs': 50}))
      raise KeyboardInterrupt
    return table_query(cifar10)(text, workdir, devices)

  with pytest.raises(KeyboardInterrupt):  # one worker: what stopped when is deterministic
    stepwise.run_stepwise(config, dies_in_step_one, poll_s=0.05, devices=jax.devices()[:1])
  rows = stepwise.status(config)
  assert [r['status'] for r in rows] == ['done'] * 6 + ['queued']
  assert rows[6]['arch'] == calls[6] and rows[6]['epoch'] == 3
  assert 'step  1 proposal  0: queued, epoch 3/50 so far' in stepwise.format_status(rows)


def test_refuses_other_settings_in_a_workdir_or_a_shared_study(tmp_path, cifar10, clean):
  config = small_config(tmp_path / 'a', k=2)
  stepwise.run_stepwise(config, table_query(cifar10), poll_s=0.05)
  config.bananas.predictor.epochs = 6
  with pytest.raises(ValueError, match=r'holds a run with a different config \(fields bananas\)'):
    stepwise.run_stepwise(config, table_query(cifar10))
  config.bananas.predictor.epochs = 5
  config.data_dir = 'elsewhere'  # where the data lives changes no result
  assert same(stepwise.run_stepwise(config, table_query(cifar10))) == same(clean)
  other = small_config(tmp_path / 'b', k=2, storage=f'sqlite:///{tmp_path / "a" / "study.db"}')
  other.study_name, other.seed = 'nasbench201_bananas_seed3', 4  # joins it with another seed
  with pytest.raises(ValueError, match=r"study 'nasbench201_bananas_seed3' in sqlite:///.* was "
                                       r"made with a different config \(fields seed\)"):
    stepwise.run_stepwise(other, table_query(cifar10))


def test_a_step_waits_for_a_lost_worker_and_names_what_is_missing(tmp_path, cifar10):
  config = small_config(tmp_path, k=2)
  config.wait_timeout_s = 0.5
  study = stepwise.open_study(config)
  with pytest.warns(UserWarning, match='Heartbeat'):  # Optuna: ask() runs no heartbeat
    lost = study.ask()  # slot 0, taken by a worker that never reports
  sampler.suggest(lost, study.sampler.space)
  with pytest.raises(TimeoutError, match=r'waited 0 s for slots \[0\] to finish; their '
                                         r'workers may have died'):
    stepwise.run_stepwise(config, table_query(cifar10), poll_s=0.05)
