"""The official nasbench API shape over a synthetic official-format file."""

import numpy as np
import pytest

from bananas_jax.benchmarks import nasbench101 as nb101
from bananas_jax.benchmarks import nasbench101_api as api


@pytest.fixture(scope='module')
def nasbench(tmp_path_factory):
  path = tmp_path_factory.mktemp('nb101') / 'nasbench_only108.tfrecord'
  nb101.write_synthetic(path, num_vertices=5, seed=1)
  return api.NASBench(str(path), seed=0)


def official_user_code(nasbench):
  """Lines as a user of the official `from nasbench import api` writes them."""
  INPUT, OUTPUT = 'input', 'output'
  CONV1X1, CONV3X3, MAXPOOL3X3 = 'conv1x1-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3'
  cell = api.ModelSpec(
      matrix=[[0, 1, 1, 1, 0],
              [0, 0, 0, 0, 1],
              [0, 0, 0, 1, 0],
              [0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0]],
      ops=[INPUT, CONV1X1, CONV3X3, MAXPOOL3X3, OUTPUT])
  assert nasbench.is_valid(cell)
  data = nasbench.query(cell)
  best = max(nasbench.get_metrics_from_hash(h)[1][108][0]['final_validation_accuracy']
             for h in nasbench.hash_iterator())
  return cell, data, best


def test_official_api_user_code_runs(nasbench):
  nasbench.reset_budget_counters()
  cell, data, best = official_user_code(nasbench)
  held = nasbench.table.query_hash(cell.hash_spec())
  repeat = int(np.argmin(np.abs(np.array(held['val_accuracy_repeats']) -
                                 100 * data['validation_accuracy'])))  # the sampled repeat
  assert 100 * data['validation_accuracy'] == pytest.approx(held['val_accuracy_repeats'][repeat])
  assert 100 * data['test_accuracy'] == pytest.approx(held['test_accuracy_repeats'][repeat])
  assert data['trainable_parameters'] == held['params']
  np.testing.assert_array_equal(data['module_adjacency'], cell.matrix)
  assert data['module_operations'] == cell.ops
  assert nasbench.get_budget_counters() == (pytest.approx(data['training_time']), 108)
  assert 0.9 < best < 0.95  # the synthetic accuracies lie near 90-94%
  assert sum(1 for _ in nasbench.hash_iterator()) == len(nasbench.table)


def test_query_samples_the_repeats(nasbench):
  cell = api.ModelSpec([[0, 1], [0, 0]], ['input', 'output'])
  seen = {nasbench.query(cell)['validation_accuracy'] for _ in range(30)}
  assert len(seen) == 3  # the synthetic file has 3 repeats per cell


def test_pruning_and_out_of_domain_cells(nasbench):
  dangling = api.ModelSpec([[0, 1, 1], [0, 0, 0], [0, 0, 0]],
                           ['input', 'conv3x3-bn-relu', 'output'])
  assert dangling.ops == ['input', 'output'] and dangling.matrix.tolist() == [[0, 1], [0, 0]]
  disconnected = api.ModelSpec([[0, 1, 0], [0, 0, 0], [0, 0, 0]],
                               ['input', 'conv3x3-bn-relu', 'output'])
  assert not disconnected.valid_spec and not nasbench.is_valid(disconnected)
  with pytest.raises(api.OutOfDomainError, match='the input does not reach the output'):
    nasbench.query(disconnected)
  bad_op = api.ModelSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ['input', 'conv5x5', 'output'])
  with pytest.raises(api.OutOfDomainError, match="unknown op 'conv5x5'"):
    nasbench.query(bad_op)
  six = np.zeros((6, 6), int)
  six[0, 1] = six[1, 2] = six[2, 3] = six[3, 4] = six[4, 5] = 1
  chain = api.ModelSpec(six, ['input'] + ['conv3x3-bn-relu'] * 4 + ['output'])
  assert nasbench.is_valid(chain)  # in the space, but not in this 5-vertex table
  with pytest.raises(api.OutOfDomainError, match='is not in this NAS-Bench-101 table'):
    nasbench.query(chain)
  cell = api.ModelSpec([[0, 1], [0, 0]], ['input', 'output'])
  with pytest.raises(api.OutOfDomainError, match='invalid number of epochs 36'):
    nasbench.query(cell, epochs=36)
  with pytest.raises(ValueError, match='ops name 3 vertices, the matrix has 2'):
    api.ModelSpec([[0, 1], [0, 0]], ['input', 'maxpool3x3', 'output'])
