import json

import pytest

from bananas_jax.io import records


def test_write_json_round_trip_and_failed_write_keeps_the_old_file(tmp_path):
  path = tmp_path / 'deep' / 'summary.json'
  records.write_json(path, {'b': 1, 'a': [1.5, 'x']})
  assert records.read_json(path) == {'a': [1.5, 'x'], 'b': 1}
  with pytest.raises(TypeError):
    records.write_json(path, {'a': object()})  # not JSON: fails half-way through
  assert records.read_json(path) == {'a': [1.5, 'x'], 'b': 1}
  assert [p.name for p in path.parent.iterdir()] == ['summary.json']  # no temporary left


def test_read_json_names_a_corrupt_file(tmp_path):
  path = tmp_path / 'final.json'
  path.write_text('{"valid_error": 5.')
  with pytest.raises(ValueError, match='final.json is not valid JSON'):
    records.read_json(path)


def test_jsonl_append_read_and_first_copy_per_key(tmp_path):
  path = tmp_path / 'results.jsonl'
  assert records.read_jsonl(path) == []
  records.append_jsonl(path, [{'t': 0, 'v': 1}, {'t': 1, 'v': 2}])
  records.append_jsonl(path, [{'t': 0, 'v': 3}])
  assert records.read_jsonl(path) == [{'t': 0, 'v': 1}, {'t': 1, 'v': 2}, {'t': 0, 'v': 3}]
  assert records.read_jsonl(path, key=lambda r: r['t']) == [{'t': 0, 'v': 1}, {'t': 1, 'v': 2}]


@pytest.mark.parametrize('torn', ['{"t": 2, "v"', '{"t": 2, "v"\n'])
def test_a_line_torn_by_a_kill_is_dropped_and_repaired(tmp_path, torn):
  path = tmp_path / 'results.jsonl'
  records.append_jsonl(path, [{'t': 0}, {'t': 1}])
  with open(path, 'a') as f:
    f.write(torn)
  assert records.read_jsonl(path, repair=False) == [{'t': 0}, {'t': 1}]
  assert path.read_text().endswith(torn)  # left alone: another process may be writing
  assert records.read_jsonl(path) == [{'t': 0}, {'t': 1}]
  records.append_jsonl(path, [{'t': 2}])
  assert [json.loads(line) for line in path.read_text().splitlines()] == [
      {'t': 0}, {'t': 1}, {'t': 2}]


def test_a_bad_line_before_the_last_is_an_error(tmp_path):
  path = tmp_path / 'results.jsonl'
  path.write_text('{"t": 0}\nnot json\n{"t": 1}\n')
  with pytest.raises(ValueError, match='results.jsonl: line 2 is not a JSON record'):
    records.read_jsonl(path)


def test_prepare_workdir_refuses_changed_fields_only(tmp_path):
  records.prepare_workdir(tmp_path, {'seed': 0, 'trials': 5, 'bananas': {'k': 10}})
  records.prepare_workdir(tmp_path, {'seed': 0, 'trials': 9, 'bananas': {'k': 10}, 'new': 1},
                          ignored=('trials',))
  assert records.read_json(tmp_path / 'config.json') == {
      'seed': 0, 'trials': 9, 'bananas': {'k': 10}, 'new': 1}
  with pytest.raises(ValueError, match=r'different config \(fields bananas, seed\)'):
    records.prepare_workdir(tmp_path, {'seed': 1, 'trials': 9, 'bananas': {'k': 5}, 'new': 1})
  assert records.read_json(tmp_path / 'config.json')['seed'] == 0  # nothing overwritten


def test_prepare_workdir_that_cannot_be_written(tmp_path):
  (tmp_path / 'file').write_text('')
  with pytest.raises(ValueError, match='cannot be written'):
    records.prepare_workdir(tmp_path / 'file' / 'run', {'seed': 0})
