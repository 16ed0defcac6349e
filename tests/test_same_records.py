"""experiments/same_records.py: the bit-for-bit check of two runs' records."""

import json

import pytest

from experiments import same_records


def write(workdir, rows):
  workdir.mkdir()
  (workdir / 'results.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows))


def record(seed, val, wall):
  return {'algorithm': 'bananas', 'seed': seed, 'val_error': [val], 'wall_time_s': wall}


def test_only_the_wall_time_may_differ(tmp_path, capsys):
  write(tmp_path / 'old', [record(0, 9.5, 1.0), record(1, 8.25, 1.0)])
  write(tmp_path / 'new', [record(0, 9.5, 7.0), record(1, 8.250001, 7.0)])
  assert same_records.main(tmp_path / 'old', tmp_path / 'new') == 1
  out = capsys.readouterr().out
  assert 'different: bananas seed 1' in out and '1 of 2 records identical (bananas)' in out
  assert same_records.main(tmp_path / 'old', tmp_path / 'old') == 0


def test_a_missing_run_is_named(tmp_path):
  write(tmp_path / 'old', [record(0, 9.5, 1.0)])
  with pytest.raises(SystemExit, match='new/results.jsonl does not exist'):
    same_records.main(tmp_path / 'old', tmp_path / 'new')
