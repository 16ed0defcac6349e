"""The step-by-step search over expensive queries: concurrency over devices, several
processes, kills, failed evaluations, status; a table lookup stands in for a training."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest

from bananas_jax import stepwise
from stepwise_worker import small_config, table_query

WORKER = pathlib.Path(__file__).with_name('stepwise_worker.py')
ROOT = WORKER.parents[1]


def worker(workdir, process_id=0, processes=1, port=0, sleep_s=0.0, devices=1):
  flags = [f for f in os.environ['XLA_FLAGS'].split()
           if not f.startswith('--xla_force_host_platform_device_count')]
  env = dict(os.environ, PYTHONPATH=str(ROOT), XLA_FLAGS=' '.join(
      [*flags, f'--xla_force_host_platform_device_count={devices}']))
  return subprocess.Popen([sys.executable, str(WORKER), str(workdir), str(process_id),
                           str(processes), str(port), str(sleep_s)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process):
  out, err = process.communicate(timeout=300)
  assert process.returncode == 0, err[-3000:]
  return json.loads(out.strip().splitlines()[-1])


def started(workdir):
  path = pathlib.Path(workdir) / 'started.log'
  return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def free_port():
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


def same(found):
  """What a search asked and was told, record by record."""
  return [(r['step'], r['index'], r['arch'], r['val_error']) for r in found]


@pytest.mark.slow
def test_resumes_after_a_kill_without_asking_or_evaluating_twice(tmp_path, cifar10):
  calls = []

  def counted(text, workdir, devices):
    calls.append(text)
    return table_query(cifar10)(text, workdir, devices)

  whole = stepwise.run_stepwise(small_config(tmp_path / 'whole', k=2), counted)
  assert len(whole) == 10 and len(calls) == 10
  assert len({r['arch'] for r in whole}) == 10  # every query new
  assert [r['step'] for r in whole] == [0] * 6 + [1] * 2 + [2] * 2

  def dies_at_the_eighth(text, workdir, devices):
    if len(calls) == 7:
      raise KeyboardInterrupt
    return counted(text, workdir, devices)

  calls.clear()
  with pytest.raises(KeyboardInterrupt):
    stepwise.run_stepwise(small_config(tmp_path / 'cut', k=2), dies_at_the_eighth)
  calls.clear()
  resumed = stepwise.run_stepwise(small_config(tmp_path / 'cut', k=2), counted)
  assert len(calls) == 3  # only the unfinished evaluations ran
  assert same(resumed) == same(whole)  # the replayed state asked the same architectures


@pytest.mark.slow
def test_a_step_trains_on_every_device_at_once(tmp_path):
  four = tmp_path / 'four'
  found = finish(worker(four, sleep_s=0.5, devices=4))
  log = started(four)
  for step_start in (6, 10):  # the two steps of k = 4 after the random 6
    step = log[step_start:step_start + 4]
    assert len({e['devices'][0] for e in step}) == 4  # each on its own device
    assert max(e['start'] for e in step) < min(e['end'] for e in step)  # all overlap
  one = tmp_path / 'one'
  assert finish(worker(one, devices=1)) == found  # the same records as on one device
  assert len({e['devices'][0] for e in started(one)}) == 1


@pytest.mark.slow
def test_two_processes_share_each_step_and_match_one_process(tmp_path):
  port = free_port()
  shared = tmp_path / 'shared'
  processes = [worker(shared, p, 2, port, sleep_s=0.2) for p in (0, 1)]
  both = [finish(p) for p in processes]
  assert both[0] == both[1]  # every process told the same results
  log = started(shared)
  assert len(log) == 14 and len({e['pid'] for e in log}) == 2
  records = [json.loads(line) for p in (0, 1)
             for line in (shared / f'results.p{p}.jsonl').read_text().splitlines()]
  assert {(r['step'], r['index'] % 2 == r['process']) for r in records} == {
      (s, True) for s in range(3)}  # proposal j on process j % 2
  assert finish(worker(tmp_path / 'single')) == both[0]


@pytest.mark.slow
def test_a_process_killed_mid_step_resumes_without_retraining(tmp_path):
  port = free_port()
  shared = tmp_path / 'shared'
  processes = [worker(shared, p, 2, port, sleep_s=0.5) for p in (0, 1)]
  deadline = time.time() + 120
  while len(started(shared)) < 8 and time.time() < deadline:
    time.sleep(0.05)  # inside step 1: its first evaluations are done, others running
  processes[1].send_signal(signal.SIGKILL)
  # JAX's coordination service stops the other process when it notices the loss (or the
  # scheduler does); the job is then started again on every host.
  try:
    processes[0].wait(timeout=5)
  except subprocess.TimeoutExpired:
    processes[0].kill()
  before = started(shared)
  port = free_port()
  again = [worker(shared, p, 2, port, sleep_s=0.5) for p in (0, 1)]
  both = [finish(p) for p in again]
  assert both[0] == both[1] == finish(worker(tmp_path / 'single'))
  finished_before = {e['arch'] for e in before}
  assert not [e for e in started(shared)[len(before):] if e['arch'] in finished_before]
  assert len({e['arch'] for e in started(shared)}) == 14  # each evaluated exactly once


@pytest.fixture(scope='module')
def clean(tmp_path_factory, cifar10):
  """The records of an undisturbed search of small_config(k=2)."""
  workdir = tmp_path_factory.mktemp('clean')
  return stepwise.run_stepwise(small_config(workdir, k=2), table_query(cifar10))


def test_a_failed_evaluation_is_recorded_and_the_search_goes_on(tmp_path, cifar10, clean):
  config = small_config(tmp_path, k=2)
  broken = clean[6]['arch']  # the first proposal of the first BANANAS step
  found = stepwise.run_stepwise(config, table_query(cifar10, fail_on={broken}))
  failed = [r for r in found if r['status'] == 'failed']
  assert [r['arch'] for r in failed] == [broken] and len(found) == 10
  assert failed[0]['val_error'] == stepwise.FAILED_VAL_ERROR
  assert failed[0]['error'] == 'FloatingPointError: loss nan in epoch 1'
  rows = stepwise.status(tmp_path)
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

  found = stepwise.run_stepwise(small_config(tmp_path / 'flaky', k=2), flaky)
  assert same(found) == same(clean) and [r['status'] for r in found] == ['done'] * 10
  assert [r['retries'] for r in found] == [0] * 6 + [2] + [0] * 3
  logged = [json.loads(line) for line in (tmp_path / 'flaky' / 'faults.jsonl').open()]
  assert [(f['step'], f['index'], f['attempt']) for f in logged] == [(1, 0, 1), (1, 0, 2)]
  assert logged[0]['error'].startswith('OSError: cannot write')
  text = stepwise.format_status(stepwise.status(tmp_path / 'flaky'))
  assert (f'step  1 proposal  0: done, validation error {found[6]["val_error"]:.3f}% '
          f'(after 2 retries)') in text

  config = small_config(tmp_path / 'broken', k=2)
  config.max_retries = 1

  def broken(text, workdir, devices):
    if text == flaky_arch:
      raise OSError('disk gone')
    return table_query(cifar10)(text, workdir, devices)

  with pytest.raises(RuntimeError, match=r'step 1 proposal 0: 2 attempts failed on faults '
                                         r'outside the architecture \(last: OSError: disk gone'):
    stepwise.run_stepwise(config, broken)
  recorded = [json.loads(line) for line in (tmp_path / 'broken' / 'results.jsonl').open()]
  assert flaky_arch not in {r['arch'] for r in recorded}  # nothing false was told
  assert same(stepwise.run_stepwise(config, table_query(cifar10))) == same(clean)  # resumed
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

  with pytest.raises(KeyboardInterrupt):
    stepwise.run_stepwise(config, dies_in_step_one)
  rows = stepwise.status(tmp_path)
  statuses = [r['status'] for r in rows]
  assert statuses[:6] == ['done'] * 6 and sorted(statuses[6:]) == ['done', 'running']
  (running,) = [r for r in rows if r['status'] == 'running']
  assert running['arch'] == calls[6]  # the other proposal of the step ran to its end
  assert (f'step  1 proposal  {running["index"]}: running (or stopped), epoch 3/50'
          in stepwise.format_status(rows))


def test_refuses_a_workdir_with_other_settings(tmp_path, cifar10):
  config = small_config(tmp_path, k=2)
  stepwise.run_stepwise(config, table_query(cifar10))
  config.bananas.predictor.epochs = 6
  with pytest.raises(ValueError, match=r'holds a run with a different config \(fields bananas\)'):
    stepwise.run_stepwise(config, table_query(cifar10))
  config.bananas.predictor.epochs = 5
  config.data_dir = 'elsewhere'  # where the data lives changes no result
  assert len(stepwise.run_stepwise(config, table_query(cifar10))) == 10


def test_a_step_waits_for_other_processes_and_names_what_is_missing(tmp_path, cifar10):
  config = small_config(tmp_path, k=2)
  config.wait_timeout_s = 0.3
  with pytest.raises(TimeoutError, match=r'step 0: after 0 s, no result for proposals 1, 3, 5'):
    stepwise.run_stepwise(config, table_query(cifar10), process_index=0, process_count=2,
                          poll_s=0.05)
