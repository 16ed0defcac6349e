"""The NAS-Bench-101 file reader, its cache, and searches on a synthetic table."""

import json
import pathlib
import subprocess
import sys

import jax
import numpy as np
import pytest

from bananas_jax import experiment
from bananas_jax.benchmarks import nasbench101 as nb101
from bananas_jax.configs import nasbench101 as config_lib
from bananas_jax.io import tfrecord
from bananas_jax.spaces import nasbench101 as nb

DATA = pathlib.Path(__file__).parent / 'data' / 'nasbench101'


@pytest.fixture(scope='module')
def real_rows():
  """Official-format payloads of 40 distinct real cells, 3 repeats each, with made-up metrics."""
  cells, seen = [], set()
  for cell in json.loads((DATA / 'cells_sample500.json').read_text()):
    matrix, ops = nb.prune_spec(cell['matrix'], cell['ops'])
    h = nb.module_hash(matrix, ops)
    if h not in seen and len(cells) < 40:
      seen.add(h)
      repeats = [(cell['val_accuracy'] + d, cell['val_accuracy'] - 1 + d, 1000.0 + 10 * d)
                 for d in (-0.3, 0.0, 0.6)]
      cells.append((h, matrix, ops, repeats, int(cell['params_M'] * 1e6)))
  payloads = [p for h, m, o, r, params in cells for p in nb101.official_row(m, o, 108, r, params)]
  return cells, payloads


@pytest.fixture(scope='module')
def synthetic5(tmp_path_factory):
  """A complete synthetic table of the 5-vertex space (2,532 cells) in the official format."""
  path = tmp_path_factory.mktemp('nb101') / 'nasbench_only108.tfrecord'
  nb101.write_synthetic(path, num_vertices=5, seed=0)
  return path


def test_round_trip_aggregates_repeats(tmp_path, real_rows):
  cells, payloads = real_rows
  path = tmp_path / 'nasbench_only108.tfrecord'
  tfrecord.write(path, payloads[::-1])  # order in the file does not matter
  table = nb101.read_official(path, progress=False)
  # The table's space has as many vertices as its largest pruned cell (7 in the real file).
  assert len(table) == 40 and table.num_vertices == max(len(c[2]) for c in cells)
  space = table.space
  for h, matrix, ops, repeats, params in cells:
    result = table.query_hash(h)
    assert result['val_accuracy'] == pytest.approx(np.mean([r[0] for r in repeats]), abs=1e-4)
    assert result['test_accuracy'] == pytest.approx(np.mean([r[1] for r in repeats]), abs=1e-4)
    assert sorted(result['val_accuracy_repeats']) == pytest.approx([r[0] for r in repeats],
                                                                   abs=1e-4)
    assert result['params'] == params
    r = table.row(h)
    cell = nb.Cell(table.matrix[r], table.ops[r].astype(np.int32))
    assert nb.module_hash(*nb.to_spec(cell)) == h
    assert space.to_string(cell) == space.to_string(space.from_spec(matrix, ops))
  with pytest.raises(KeyError, match="module hash 'ffff' is not in this NAS-Bench-101 table"):
    table.query_hash('ffff')


def test_epoch_budget_of_the_full_file(tmp_path, real_rows):
  cells, _ = real_rows
  h, matrix, ops, repeats, params = cells[0]
  path = tmp_path / 'nasbench_full.tfrecord'
  tfrecord.write(path, nb101.official_row(matrix, ops, 36, repeats, params) +
                 nb101.official_row(matrix, ops, 108, [(1.0, 2.0, 3.0)] * 3, params))
  assert nb101.read_official(path, 36, progress=False).query_hash(h)['epochs'] == 36
  assert nb101.read_official(path, 108, progress=False).query_hash(h)['val_accuracy'] == 1.0
  with pytest.raises(ValueError, match=r'no rows at 12 epochs \(budgets in the file: \[36, 108\]'):
    nb101.read_official(path, 12, progress=False)


@pytest.mark.parametrize('damage, message', [
    ('payload_crc', r'bad payload CRC in the record at byte 0'),
    ('truncated', r'truncated record at byte \d+'),
    ('bad_json', r'the record at byte 0 is not a NAS-Bench-101 row'),
    ('bad_metrics', r'the record at byte 0 is not a NAS-Bench-101 row'),
    ('other_file', r'bad length CRC at byte 0 \(not a TFRecord file'),
])
def test_damaged_files_name_the_file_and_offset(tmp_path, real_rows, damage, message):
  _, payloads = real_rows
  path = tmp_path / 'nasbench_only108.tfrecord'
  if damage == 'payload_crc':
    data = bytearray(tfrecord.frame(payloads[0]) + tfrecord.frame(payloads[1]))
    data[20] ^= 1
    path.write_bytes(bytes(data))
  elif damage == 'truncated':
    path.write_bytes(b''.join(tfrecord.frame(p) for p in payloads[:3])[:-7])
  elif damage == 'bad_json':
    tfrecord.write(path, [b'{"not": "a row"'])
  elif damage == 'bad_metrics':
    row = json.loads(payloads[0])
    row[4] = 'AAAA'
    tfrecord.write(path, [json.dumps(row).encode()])
  else:
    path.write_text('module_hash,val_accuracy\n' * 10)
  with pytest.raises(ValueError, match=message) as error:
    nb101.read_official(path, progress=False)
  assert str(path) in str(error.value)


def test_two_hashes_with_one_key_are_refused(tmp_path, real_rows):
  cells, _ = real_rows
  _, matrix, ops, repeats, params = cells[0]
  payloads = nb101.official_row(matrix, ops, 108, repeats, params)
  forged = [json.dumps(['f' * 32, *json.loads(p)[1:]]).encode() for p in payloads]
  path = tmp_path / 'nasbench_only108.tfrecord'
  tfrecord.write(path, payloads + forged)
  with pytest.raises(ValueError, match='different official hashes but the same canonical key'):
    nb101.read_official(path, progress=False)


def test_cache_written_reloaded_and_refused_when_damaged(tmp_path, real_rows):
  _, payloads = real_rows
  path = tmp_path / 'nasbench_only108.tfrecord'
  tfrecord.write(path, payloads)
  table = nb101.load_table(path, progress=False)
  cache = nb101.cache_path(path)
  assert cache.name == 'nasbench_only108.108ep.npz' and cache.exists()
  again = nb101.load_table(path, progress=False)
  for field in ('hashes', 'matrix', 'ops', 'keys', 'val_accuracy', 'params'):
    np.testing.assert_array_equal(getattr(again, field), getattr(table, field))
  np.testing.assert_array_equal(nb101.load_table(cache).hashes, table.hashes)  # the cache itself
  cache.write_bytes(cache.read_bytes()[:1000])
  with pytest.raises(ValueError, match=r'damaged NAS-Bench-101 cache .*108ep\.npz.*delete it'):
    nb101.load_table(path, progress=False)


def test_interrupted_cache_write_leaves_the_old_cache(tmp_path, real_rows, monkeypatch):
  _, payloads = real_rows
  path = tmp_path / 'nasbench_only108.tfrecord'
  tfrecord.write(path, payloads)
  table = nb101.load_table(path, progress=False)
  before = nb101.cache_path(path).read_bytes()

  def die(file, **arrays):
    file.write(b'half a cache')
    raise KeyboardInterrupt

  monkeypatch.setattr(np, 'savez', die)
  with pytest.raises(KeyboardInterrupt):
    nb101.write_cache(table, nb101.cache_path(path))
  assert nb101.cache_path(path).read_bytes() == before


def test_cache_is_rebuilt_when_the_file_changes(tmp_path, real_rows):
  _, payloads = real_rows
  path = tmp_path / 'nasbench_only108.tfrecord'
  tfrecord.write(path, payloads[:30])
  assert len(nb101.load_table(path, progress=False)) == 10
  tfrecord.write(path, payloads)
  assert len(nb101.load_table(path, progress=False)) == 40


def test_framing_agrees_with_tensorflow(tmp_path, real_rows):
  tf = pytest.importorskip('tensorflow')
  _, payloads = real_rows
  path = tmp_path / 'records.tfrecord'
  tfrecord.write(path, payloads)
  assert [r.numpy() for r in tf.data.TFRecordDataset(str(path))] == payloads


def test_missing_file_says_what_and_where(tmp_path, monkeypatch):
  monkeypatch.setenv(nb101.PATH_ENV, str(tmp_path / 'nowhere.tfrecord'))
  monkeypatch.setenv(nb101.DATA_DIR_ENV, str(tmp_path))
  with pytest.raises(FileNotFoundError) as error:
    nb101.load_table(tmp_path / 'missing.tfrecord')
  text = str(error.value)
  for expected in ('nasbench_only108.tfrecord', 'official NAS-Bench-101 release',
                   'missing.tfrecord', 'nowhere.tfrecord', nb101.DATA_DIR_ENV, '--config.data_path'):
    assert expected in text
  with pytest.raises(ValueError, match="unknown NAS-Bench-101 epoch budget 100; accepted: 4, 12"):
    nb101.load_table(epochs=100)


def test_launcher_exits_non_zero_without_data(tmp_path):
  env = {'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path), 'PYTHONPATH': '.'}
  result = subprocess.run(
      [sys.executable, '-m', 'launch.search', '--config=bananas_jax/configs/nasbench101.py',
       f'--config.workdir={tmp_path / "run"}'], capture_output=True, text=True, env=env,
      cwd=pathlib.Path(__file__).parents[1], check=False)
  assert result.returncode != 0
  assert 'nasbench_only108.tfrecord' in result.stderr and 'NASBENCH101_PATH' in result.stderr


def test_synthetic_table_is_complete_for_its_space(synthetic5):
  table = nb101.load_table(synthetic5, progress=False)
  assert len(table) == len(nb101.all_cells(nb.NASBench101Space(num_vertices=5)).ops) == 2532
  benchmark = table.benchmark()
  cells = benchmark.space.sample(jax.random.key(0), 300)
  rows = np.asarray(benchmark.rows(cells))
  np.testing.assert_array_equal(benchmark.sorted_keys[np.searchsorted(
      np.asarray(benchmark.sorted_keys), np.asarray(benchmark.space.canonical_key(cells)))],
      benchmark.space.canonical_key(cells))  # every sampled cell is in the table
  for i in range(0, 300, 37):
    cell = nb.Cell(np.asarray(cells.matrix[i]), np.asarray(cells.ops[i]))
    assert table.hashes[rows[i]].decode() == nb.module_hash(*nb.to_spec(cell))


@pytest.mark.slow
@pytest.mark.parametrize('sampler, algorithms', [
    # Evolution and GP-BO only add mutation, which BANANAS exercises too; TPE and AlphaX
    # draw decisions through from_choices as REINFORCE does, random search is the 'table'
    # case. DNGO, BOHAMIANN and NPENAS are BANANAS' loop on the adjacency encoding: a graph
    # network (BONAS') is what is new to this space.
    ('space', 'bananas,local_search,reinforce,bonas'),
    ('table', 'random_search'),
])
def test_searches_on_the_synthetic_table(tmp_path, synthetic5, sampler, algorithms):
  config = config_lib.get_config()
  config.data_path = str(synthetic5)
  config.sampler, config.algorithms = sampler, algorithms
  config.trials, config.trial_batch, config.total_queries = 2, 2, 20  # one model step
  config.bananas.predictor.epochs = 5
  config.bonas.predictor.update(epochs=2, width=8, linear_width=4)
  config.workdir = str(tmp_path / 'run')
  summary = experiment.run_search(config)
  assert set(summary['algorithms']) == set(algorithms.split(','))
  records = [json.loads(line) for line in (tmp_path / 'run' / 'results.jsonl').open()]
  assert len(records) == 2 * len(summary['algorithms'])
  space = nb.NASBench101Space(num_vertices=5)
  for record in records:
    cell = space.from_string(record['best_arch'])
    assert space.to_string(cell) == record['best_arch']
    assert record['test_error'][-1] >= summary['benchmark']['best_test_error']
