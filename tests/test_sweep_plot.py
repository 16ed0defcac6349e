"""Sweeps (grid, kill and resume), figures and tables, metrics, trials split over processes."""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from bananas_jax import experiment, plots, sweep
from bananas_jax.configs import nasbench201
from bananas_jax.io import tensorboard
from experiments.configs import sweep_smoke

ROOT = pathlib.Path(__file__).parents[1]


def test_grid_points_and_names():
  config = sweep_smoke.get_config()
  config.points = 'bananas.k=5 | bananas.k=10,bananas.num_init=20'
  points = sweep.grid_points(config)
  assert len(points) == 2 * 4
  assert sweep.point_name(points[0]) == 'bananas.k=5+bananas.encoding=path+bananas.acq_opt=mutation'
  run = sweep.point_config(config, points[-1])
  assert (run.bananas.k, run.bananas.num_init, run.bananas.encoding) == (10, 20, 'adjacency')
  assert 'grid' not in run and run.workdir.endswith(sweep.point_name(points[-1]))


@pytest.mark.parametrize('grid, message', [
    ('bananas.predictor.width=20,x', "sweep value 'x' for bananas.predictor.width is not a int"),
    ('bananas.depth=3', "unknown sweep field 'bananas.depth' \\(no 'depth' in the config\\)"),
    ('noisy=maybe', "sweep value 'maybe' for noisy must be true or false"),
    ('dataset', "malformed sweep entry 'dataset'; expected field=value"),
])
def test_bad_grids_are_refused(grid, message):
  config = sweep_smoke.get_config()
  config.grid = grid
  with pytest.raises(ValueError, match=message):
    sweep.grid_points(config)


def test_bad_point_refused_before_anything_runs(tmp_path):
  config = sweep_smoke.get_config()
  config.grid = 'bananas.encoding=path,gcn'
  config.sweep_dir = str(tmp_path / 'sweep')
  with pytest.raises(ValueError, match="unknown encoding 'gcn'"):
    sweep.run_sweep(config)
  assert not (tmp_path / 'sweep').exists()


def sweep_command(sweep_dir):
  """The smoke sweep cut to its 2 encodings, to keep the suite short."""
  return [sys.executable, '-m', 'launch.sweep', '--config=experiments/configs/sweep_smoke.py',
          f'--config.sweep_dir={sweep_dir}', '--config.grid=bananas.encoding=path,adjacency']


def records_of(sweep_dir):
  found = {}
  for path in sorted(pathlib.Path(sweep_dir).glob('*/results.jsonl')):
    found[path.parent.name] = [json.loads(line) for line in path.read_text().splitlines()]
  return found


@pytest.mark.slow
def test_sweep_killed_and_resumed_has_every_record_once(tmp_path):
  sweep_dir = tmp_path / 'sweep'
  env = {**os.environ, 'PYTHONPATH': str(ROOT)}
  process = subprocess.Popen(sweep_command(sweep_dir), cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.time() + 120
  while time.time() < deadline and not any(records_of(sweep_dir).values()):
    time.sleep(0.2)
  os.kill(process.pid, signal.SIGKILL)  # mid-sweep: the first record is in, most are not
  process.wait()
  before = records_of(sweep_dir)
  assert sum(map(len, before.values())) < 4
  subprocess.run(sweep_command(sweep_dir), cwd=ROOT, env=env, check=True, capture_output=True)
  after = records_of(sweep_dir)
  assert len(after) == 2
  for name, records in after.items():
    assert sorted(r['trial'] for r in records) == [0, 1], name
    assert json.loads((sweep_dir / name / 'summary.json').read_text())['algorithms']
  for name, records in before.items():  # what was written before the kill is kept as is
    assert after[name][:len(records)] == records

  # A finished sweep started again runs nothing and changes nothing.
  subprocess.run(sweep_command(sweep_dir), cwd=ROOT, env=env, check=True, capture_output=True)
  assert records_of(sweep_dir) == after

  out = tmp_path / 'plots'
  fig, paths = plots.write_report([sweep_dir], out, queries=(10, 30))
  assert len(fig.axes) == 1 and fig.axes[0].get_title() == 'NAS-Bench-201 CIFAR-10'
  assert {p.name for p in paths} == {'test_error.png', 'test_error.pdf', 'tables.md',
                                     'tables.tex', 'test_error_vs_cost.png',
                                     'test_error_vs_cost.pdf'}
  table, costs = (out / 'tables.md').read_text().split('at simulated training budgets')
  assert table.count('| bananas (bananas.encoding=') == 2  # one row per sweep point
  assert 'optimum of the table | | 5.627 | 5.627' in table
  assert re.search(r'\| [0-2]/2 \| [0-9]+\.[0-9]{2} \|$', table.splitlines()[4])  # found, s/trial
  assert r'\toprule' in (out / 'tables.tex').read_text()
  # The cost axis: a row per sweep point at simulated budgets of 10 ... 150 full trainings.
  assert costs.splitlines()[2].startswith('| algorithm | 10 (')
  assert costs.count('| bananas (bananas.encoding=') == 2
  assert (out / 'test_error.png').stat().st_size > 10_000


def test_plot_launcher_errors(tmp_path):
  result = subprocess.run([sys.executable, '-m', 'launch.plot', f'--inputs={tmp_path / "nope"}'],
                          cwd=ROOT, capture_output=True, text=True, check=False)
  assert result.returncode != 0 and 'nope is not a directory' in result.stderr
  result = subprocess.run([sys.executable, '-m', 'launch.plot', f'--inputs={tmp_path}',
                           '--queries=ten'], cwd=ROOT, capture_output=True, text=True,
                          check=False)
  assert result.returncode != 0 and '--queries must be positive integers, got ten' in result.stderr


def small_config(tmp_path, algorithms):
  config = nasbench201.get_config()
  config.algorithms = algorithms
  config.trials, config.trial_batch, config.total_queries = 4, 4, 30
  config.bananas.update(predictor=dict(epochs=10, num_ensemble=2))
  config.workdir = str(tmp_path / 'run')
  return config


def test_metrics_written_per_iteration(tmp_path):
  config = small_config(tmp_path, 'bananas')
  config.metrics = True
  experiment.run_search(config)
  (event_file,) = (tmp_path / 'run' / 'tensorboard' / 'bananas_trials_0-3').glob('events.out.tfevents.*')
  scalars = tensorboard.read_scalars(event_file)
  by_tag = {}
  for tag, step, value in scalars:
    by_tag.setdefault(tag, []).append((step, value))
  assert [s for s, _ in by_tag['best_val_error']] == list(range(3))  # 10 + 2 x 10 queries
  best = [v for _, v in by_tag['best_val_error']]
  assert best == sorted(best, reverse=True)
  assert [s for s, _ in by_tag['predictor_mae']] == [1, 2]  # no model at the first step
  assert all(0 < v < 20 for _, v in by_tag['predictor_mae'])
  assert all(v > 0 for _, v in by_tag['seconds_per_iteration'])


@pytest.mark.slow
def test_processes_share_trials_and_match_one_process(tmp_path):
  config = small_config(tmp_path, 'random_search')
  for process in (0, 1):
    experiment.run_search(config, process_index=process, process_count=2)
  split = {p: [json.loads(line) for line in open(tmp_path / 'run' / f'results.p{p}.jsonl')]
           for p in (0, 1)}
  assert [r['trial'] for r in split[0]] == [0, 2] and [r['trial'] for r in split[1]] == [1, 3]
  summary = json.loads((tmp_path / 'run' / 'summary.json').read_text())
  assert summary['algorithms']['random_search']['trials'] == 4

  config.workdir = str(tmp_path / 'single')
  experiment.run_search(config)
  single = {r['trial']: r for r in map(json.loads, open(tmp_path / 'single' / 'results.jsonl'))}
  for record in split[0] + split[1]:
    np.testing.assert_array_equal(record['test_error'], single[record['trial']]['test_error'])
