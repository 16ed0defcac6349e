"""The NAS-Bench-101 space: official hash, pruning, validity, key, encodings, edits."""

import itertools
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bananas_jax.spaces import nasbench101 as nb

DATA = pathlib.Path(__file__).parent / 'data' / 'nasbench101'
SPACE = nb.NASBench101Space()


def stack(cells):
  return nb.Cell(np.stack([c.matrix for c in cells]), np.stack([c.ops for c in cells]))


def row(cells, i):
  return jax.tree.map(lambda leaf: np.asarray(leaf)[i], cells)


@pytest.fixture(scope='module')
def sample_cells():
  return json.loads((DATA / 'cells_sample500.json').read_text())


@pytest.fixture(scope='module')
def sample_batch(sample_cells):
  return stack([SPACE.from_spec(c['matrix'], c['ops']) for c in sample_cells])


def test_official_hash_vectors():
  for vector in json.loads((DATA / 'hash_vectors.json').read_text()):
    assert nb.module_hash(vector['matrix'], vector['ops']) == vector['module_hash']
    assert nb.module_hash(vector['pruned_matrix'], vector['pruned_ops']) == vector['module_hash']
    matrix, ops = nb.prune_spec(vector['matrix'], vector['ops'])
    assert matrix.tolist() == vector['pruned_matrix'] and ops == vector['pruned_ops']


def relabel(matrix, ops, perm):
  """The same cell with inner vertex ``perm[i]`` moved to position i (input, output fixed)."""
  order = [0, *perm, len(ops) - 1]
  return np.asarray(matrix)[np.ix_(order, order)], [ops[v] for v in order]


def test_hash_and_key_invariant_under_vertex_permutations():
  rng = np.random.default_rng(0)
  cells = SPACE.sample(jax.random.key(0), 60)
  keys = np.asarray(SPACE.canonical_key(cells))
  relabelled, expected = [], []
  for i in range(60):
    matrix, ops = nb.to_spec(row(cells, i))
    expected_hash = nb.module_hash(matrix, ops)
    for _ in range(5):
      perm = list(rng.permutation(np.arange(1, len(ops) - 1)))
      new_matrix, new_ops = relabel(matrix, ops, perm)
      assert nb.module_hash(new_matrix, new_ops) == expected_hash  # any relabelling
      if not np.tril(new_matrix).any():  # the space stores upper-triangular cells only
        relabelled.append(SPACE.from_spec(new_matrix, new_ops))
        expected.append(keys[i])
  assert len(relabelled) > 100
  np.testing.assert_array_equal(SPACE.canonical_key(stack(relabelled)), expected)


def test_key_equal_exactly_when_official_hash_equal(sample_cells, sample_batch):
  keys = np.asarray(SPACE.canonical_key(sample_batch))
  hashes = [nb.module_hash(c['matrix'], c['ops']) for c in sample_cells]
  for (k1, h1), (k2, h2) in itertools.combinations(zip(keys, hashes), 2):
    assert (k1 == k2) == (h1 == h2)
  assert len(set(hashes)) > 250  # the sample has repeats, but mostly distinct cells


def reference_prune(matrix):
  """Plain-Python DFS: vertices reachable from the input and reaching the output."""
  n = len(matrix)

  def reach(start, forward):
    seen, stack_ = {start}, [start]
    while stack_:
      v = stack_.pop()
      for w in range(n):
        if (matrix[v][w] if forward else matrix[w][v]) and w not in seen:
          seen.add(w)
          stack_.append(w)
    return seen

  live = reach(0, True) & reach(n - 1, False)
  if n - 1 not in live:
    return set(), 0
  edges = sum(matrix[v][w] for v in live for w in live)
  return live, edges


def test_pruning_and_validity_match_a_plain_python_reference():
  rng = np.random.default_rng(1)
  bits = rng.integers(0, 2, (3000, SPACE.num_edges))
  cells = SPACE.from_choices(np.concatenate([bits, np.zeros((3000, 5), int)], axis=1))
  matrix, live = jax.jit(SPACE.prune)(cells)
  valid = np.asarray(jax.jit(SPACE.is_valid)(cells))
  for i in range(3000):
    full = np.asarray(cells.matrix[i]).tolist()
    ref_live, ref_edges = reference_prune(full)
    assert set(np.flatnonzero(np.asarray(live[i]))) == ref_live
    assert int(np.asarray(matrix[i]).sum()) == ref_edges
    assert valid[i] == (bool(ref_live) and ref_edges <= 9)


def reference_paths(matrix, ops):
  """Path-encoding indices by DFS over the unpruned matrix."""
  found = set()

  def walk(v, codes):
    for w in range(len(matrix)):
      if matrix[v][w]:
        if w == len(matrix) - 1:
          found.add(sum(3**i * (c + 1) for i, c in enumerate(codes)))
        else:
          walk(w, [*codes, ops[w - 1]])

  walk(0, [])
  return found


def test_path_encoding_matches_a_dfs(sample_batch):
  cells = jax.tree.map(lambda a, b: np.concatenate([a, b]), sample_batch,
                       SPACE.sample(jax.random.key(2), 300))
  paths = np.asarray(jax.jit(lambda c: SPACE.encode(c, 'path'))(cells))
  assert paths.shape == (800, 364)
  for i in range(800):
    cell = row(cells, i)
    assert set(np.flatnonzero(paths[i])) == reference_paths(cell.matrix.tolist(),
                                                            cell.ops.tolist())


def test_worked_example_encodings():
  # input -> conv1x1 -> maxpool -> output, plus input -> output: paths '' and (1, 2).
  cell = SPACE.from_spec([[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]],
                         ['input', 'conv1x1-bn-relu', 'maxpool3x3', 'output'])
  batch = stack([cell])
  assert np.flatnonzero(SPACE.encode(batch, 'path')[0]).tolist() == [0, 2 + 3 * 3]
  assert SPACE.encode(batch).shape == (1, 40)
  adjacency = np.asarray(SPACE.encode(batch, 'adjacency')[0])
  assert adjacency.shape == (36,) and adjacency[21:].reshape(5, 3).sum() == 5
  assert np.asarray(SPACE.encode(batch, 'categorical')[0, 21:23]).tolist() == [1, 2]


def test_sample_cells_valid_and_encodings_consistent(sample_cells, sample_batch):
  assert np.asarray(SPACE.is_valid(sample_batch)).all()
  pruned = stack([SPACE.from_spec(*nb.prune_spec(c['matrix'], c['ops'])) for c in sample_cells])
  # Paths only run through live vertices: the pruned cell has the same path encoding.
  np.testing.assert_array_equal(SPACE.encode(sample_batch, 'path'), SPACE.encode(pruned, 'path'))
  np.testing.assert_array_equal(SPACE.canonical_key(sample_batch), SPACE.canonical_key(pruned))
  assert np.asarray(SPACE.encode(sample_batch, 'adjacency'))[:, 21:].sum(axis=1).tolist() == [5] * 500


def test_sampler_matches_plain_rejection_sampling():
  """Bernoulli(0.5) edges rejected until valid: most valid cells are heavily pruned."""
  cells = jax.jit(SPACE.sample, static_argnums=1)(jax.random.key(3), 4000)
  assert np.asarray(SPACE.is_valid(cells)).all()
  _, live = SPACE.prune(cells)
  sizes = np.bincount(np.asarray(live).sum(axis=1), minlength=8) / 4000
  rng, reference = np.random.default_rng(0), []
  while len(reference) < 4000:
    matrix, ops = nb.prune_spec(np.triu(rng.integers(0, 2, (7, 7)), 1), ['input'] * 6 + ['output'])
    if len(ops) >= 2 and matrix.sum() <= 9:
      reference.append(len(ops))
  np.testing.assert_allclose(sizes, np.bincount(reference, minlength=8) / 4000, atol=0.03)


def test_mutate_keeps_cells_valid_at_the_original_rate():
  cells = SPACE.sample(jax.random.key(3), 500)
  children = jax.jit(SPACE.mutate)(jax.random.key(4), cells)
  assert np.asarray(SPACE.is_valid(children)).all()
  changed_edges = (np.asarray(cells.matrix) != np.asarray(children.matrix)).sum(axis=(1, 2))
  changed_ops = (np.asarray(cells.ops) != np.asarray(children.ops)).sum(axis=1)
  assert 0.5 < changed_edges.mean() < 2 and 0.5 < changed_ops.mean() < 2  # rate 1: ~1 each


def test_neighbours_are_single_edits():
  cell = row(SPACE.sample(jax.random.key(5), 1), 0)
  nbrs = SPACE.neighbours(cell)
  assert nbrs.ops.shape == (21 + 5 * 2, 5)
  edits = ((np.asarray(nbrs.matrix) != np.asarray(cell.matrix)).sum(axis=(1, 2)) +
           (np.asarray(nbrs.ops) != np.asarray(cell.ops)).sum(axis=1))
  assert edits.tolist() == [1] * 31


def test_choices_round_trip():
  cells = SPACE.sample(jax.random.key(6), 20)
  back = SPACE.from_choices(SPACE.to_choices(cells))
  np.testing.assert_array_equal(back.matrix, cells.matrix)
  np.testing.assert_array_equal(back.ops, cells.ops)


def test_string_round_trip_and_errors():
  cells = SPACE.sample(jax.random.key(7), 10)
  for i in range(10):
    text = SPACE.to_string(row(cells, i))
    again = SPACE.from_string(text)
    assert SPACE.to_string(again) == text
    assert nb.module_hash(*nb.to_spec(again)) == nb.module_hash(*nb.to_spec(row(cells, i)))
  with pytest.raises(ValueError, match="malformed NAS-Bench-101 cell string '0110'"):
    SPACE.from_string('0110')
  with pytest.raises(ValueError, match="unknown NAS-Bench-101 op 'conv5x5'; accepted"):
    SPACE.from_string('011001000|input,conv5x5,output')
  with pytest.raises(ValueError, match='strictly upper-triangular'):
    SPACE.from_spec([[0, 1], [1, 0]], ['input', 'output'])
  with pytest.raises(ValueError, match="unknown encoding 'gcn' for nasbench101; accepted"):
    SPACE.encoding_dim('gcn')
  with pytest.raises(ValueError, match='num_vertices must be in 3..7, got 8'):
    nb.NASBench101Space(num_vertices=8)


def test_key_fits_int32_and_is_jittable_under_vmap():
  cells = SPACE.sample(jax.random.key(8), 64)
  batched = jax.tree.map(lambda a: a.reshape((8, 8) + a.shape[1:]), cells)
  keys = jax.jit(jax.vmap(SPACE.canonical_key))(batched).reshape(-1)
  np.testing.assert_array_equal(keys, SPACE.canonical_key(cells))
  assert keys.dtype == jnp.int32 and (np.asarray(keys) >= 0).all()


def test_path_names_of_a_worked_example():
  space = nb.NASBench101Space()
  cell = space.from_spec(np.array([[0, 1, 1, 0], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]]),
                         ['input', 'conv1x1-bn-relu', 'maxpool3x3', 'output'])
  present = np.flatnonzero(np.asarray(space.encode(nb.Cell(cell.matrix[None], cell.ops[None]),
                                                   'path'))[0])
  assert [space.path_names()[i] for i in present] == [
      'input -> conv1x1-bn-relu -> output', 'input -> maxpool3x3 -> output',
      'input -> conv1x1-bn-relu -> maxpool3x3 -> output']
  assert len(set(space.path_names())) == 364
