import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from bananas_jax import experiment
from bananas_jax.configs import nasbench201 as default_config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def small_config(workdir, **overrides):
  config = default_config.get_config()
  config.algorithms = 'random_search'
  config.trials = 3
  config.trial_batch = 2
  config.total_queries = 30
  config.workdir = str(workdir)
  config.update(overrides)
  return config


def read_jsonl(path):
  return [json.loads(line) for line in path.read_text().splitlines()]


def test_records_and_summary(tmp_path):
  summary = experiment.run_search(small_config(tmp_path))
  records = read_jsonl(tmp_path / 'results.jsonl')
  assert sorted(r['trial'] for r in records) == [0, 1, 2]
  record = records[0]
  assert set(record) == {'algorithm', 'trial', 'seed', 'queries', 'test_error', 'val_error',
                         'best_arch', 'best_index', 'train_time_s', 'spent_s', 'cost_trace',
                         'wall_time_s'}
  assert record['queries'] == [10, 20, 30]
  cost = record['train_time_s']  # simulated training seconds of the first 10, 20, 30 queries
  assert 0 < cost[0] < cost[1] < cost[2]
  # The answer against simulated seconds: improving, ending at the 30-query answer.
  trace = np.array(record['cost_trace'])
  assert np.all(np.diff(trace[:, 0]) > 0) and np.all(np.diff(trace[:, 1]) < 0)
  assert trace[-1, 0] <= cost[2] == record['spent_s'] and trace[-1, 2] == record['test_error'][-1]
  # Each new best's query count: all queries are full-fidelity ones here.
  assert np.all(np.diff(trace[:, 3]) > 0) and trace[-1, 3] <= 30
  np.testing.assert_array_equal(trace[:, 4], trace[:, 3])
  assert record['best_arch'].startswith('|') and 0 <= record['best_index'] < 15625
  assert json.loads((tmp_path / 'config.json').read_text())['total_queries'] == 30
  assert summary['algorithms']['random_search']['trials'] == 3
  written = json.loads((tmp_path / 'summary.json').read_text())
  assert written.pop('provenance')['jax_version'] == jax.__version__
  assert written == summary


def test_resume_keeps_records_and_drops_a_cut_line(tmp_path):
  experiment.run_search(small_config(tmp_path))
  path = tmp_path / 'results.jsonl'
  first = path.read_text()
  with open(path, 'a') as f:
    f.write('{"algorithm": "random_search", "trial": 3, "se')  # a write cut by a kill
  experiment.run_search(small_config(tmp_path, trials=5))
  text = path.read_text()
  assert text.startswith(first)
  records = read_jsonl(path)
  assert sorted(r['trial'] for r in records) == [0, 1, 2, 3, 4]
  experiment.run_search(small_config(tmp_path, trials=5))  # nothing left: nothing rerun
  assert path.read_text() == text
  fresh = tmp_path / 'fresh'
  experiment.run_search(small_config(fresh, trials=5))
  assert read_jsonl(fresh / 'results.jsonl')[3]['test_error'] == records[3]['test_error']


def test_workdir_of_another_run_is_refused(tmp_path):
  experiment.run_search(small_config(tmp_path))
  with pytest.raises(ValueError, match='different config.*dataset'):
    experiment.run_search(small_config(tmp_path, dataset='cifar100'))
  changed = small_config(tmp_path)
  changed.random_search.k = 20
  with pytest.raises(ValueError, match='different config.*random_search'):
    experiment.run_search(changed)


def test_algorithms_can_be_added_to_a_run(tmp_path):
  experiment.run_search(small_config(tmp_path))
  config = small_config(tmp_path, algorithms='random_search,local_search')
  config.bananas.predictor.epochs = 3  # bananas has no records: its section may change
  summary = experiment.run_search(config)
  assert set(summary['algorithms']) == {'random_search', 'local_search'}
  saved = json.loads((tmp_path / 'config.json').read_text())
  assert saved['algorithms'] == 'random_search,local_search'
  del config['bananas']  # a section without records may also be gone
  config.algorithms = 'random_search'
  experiment.run_search(config)


@pytest.mark.parametrize('overrides,message', [
    ({'search_space': 'nasbench301'}, "unknown search space 'nasbench301'"),
    ({'dataset': 'svhn'}, "unknown dataset 'svhn'; accepted: cifar10, cifar100, imagenet16_120"),
    ({'algorithms': 'random_search,hill_climb'}, "unknown algorithm 'hill_climb'"),
    ({'fidelity': 100}, 'unknown fidelity 100; accepted: 12, 200'),
    ({'trials': 0}, 'trials must be at least 1, got 0'),
    ({'total_queries': 5}, r'total_queries \(5\) must be at least num_init \(10\)'),
    ({'noisy': True, 'fidelity': 12}, 'noisy=True needs per-seed validation values'),
])
def test_bad_config_is_refused(tmp_path, overrides, message):
  with pytest.raises(ValueError, match=message):
    experiment.run_search(small_config(tmp_path / 'w', **overrides))
  assert not (tmp_path / 'w').exists()


def test_unwritable_workdir(tmp_path):
  blocker = tmp_path / 'file'
  blocker.write_text('')
  with pytest.raises(ValueError, match='workdir .*file/run cannot be written'):
    experiment.run_search(small_config(blocker / 'run'))


def test_launcher_exits_nonzero_with_the_message(tmp_path):
  proc = subprocess.run(
      [sys.executable, '-m', 'launch.search', f'--config.workdir={tmp_path}',
       '--config.algorithms=random_search', '--config.dataset=mnist'],
      cwd=REPO, capture_output=True, text=True)
  assert proc.returncode != 0
  assert "error: unknown dataset 'mnist'" in proc.stderr


def test_launcher_runs_and_prints_the_table(tmp_path):
  proc = subprocess.run(
      [sys.executable, '-m', 'launch.search', f'--config.workdir={tmp_path}',
       '--config.algorithms=random_search', '--config.trials=4', '--config.total_queries=20'],
      cwd=REPO, capture_output=True, text=True)
  assert proc.returncode == 0, proc.stderr
  assert 'random_search' in proc.stdout and 'test@' in proc.stdout


def test_the_paper_competitors_take_their_config_sections(tmp_path):
  config = small_config(tmp_path, algorithms='dngo,bohamiann,bonas,gcn_predictor,npenas,alphax',
                        trials=2)
  config.dngo.predictor.epochs = config.npenas.predictor.epochs = 5
  config.alphax.predictor.epochs = 5
  config.bohamiann.predictor.update(num_sghmc_steps=200, num_burn_in_steps=50, keep_every=50)
  for gcn in (config.bonas.predictor, config.gcn_predictor.predictor):
    gcn.update(epochs=2, width=8, linear_width=4)
  config.gcn_predictor.update(num_init=20, k=10, num_random=100)
  _, algorithms = experiment.build(config)
  assert algorithms['dngo'].predictor.epochs == algorithms['alphax'].predictor.epochs == 5
  assert algorithms['bohamiann'].predictor.keep_every == 50
  assert algorithms['bonas'].predictor.width == algorithms['gcn_predictor'].predictor.width == 8
  assert algorithms['gcn_predictor'].num_random == 100
  # Each of them searches in tests/test_search_baselines.py, through the runner this uses.
