"""The cell space from a node count and ops, and the categorical space from named options."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bananas_jax import spaces
from bananas_jax.spaces import nasbench201

CELL = spaces.CellSpace(num_nodes=4, ops=('a', 'b', 'c'))


def test_a_four_node_cell_path_encoding_by_hand():
  # Edges 0->1, 0->2, 1->2, 0->3, 1->3, 2->3 carry c, a, b, b, a, c.
  arch = CELL.from_string('|c~0|+|a~0|b~1|+|b~0|a~1|c~2|')
  assert arch.tolist() == [2, 0, 1, 1, 0, 2]
  # Paths (op codes from the input on) and their indices (base 3 + 9 + 27 = 39 features):
  # 0->3: b = 1; 0->1->3: c, a = 3 + 2 + 0 * 3 = 5; 0->2->3: a, c = 3 + 0 + 2 * 3 = 9;
  # 0->1->2->3: c, b, c = 12 + 2 + 1 * 3 + 2 * 9 = 35.
  path = np.asarray(CELL.encode(jnp.asarray(arch[None]), 'path'))[0]
  assert CELL.encoding_dim('path') == 39 and np.flatnonzero(path).tolist() == [1, 5, 9, 35]
  names = CELL.path_names()
  assert [names[i] for i in (1, 5, 9, 35)] == ['b', 'c -> a', 'a -> c', 'c -> b -> c']


def test_nasbench201_is_the_four_node_cell_of_its_ops():
  generic = spaces.CellSpace(num_nodes=4, ops=nasbench201.OPS)
  nb201 = spaces.make('nasbench201')
  archs = nb201.from_key(jnp.arange(nasbench201.NUM_ARCHS))
  for encoding in nb201.encodings:
    np.testing.assert_array_equal(nb201.encode(archs, encoding), generic.encode(archs, encoding))
  key = jax.random.PRNGKey(0)
  np.testing.assert_array_equal(nb201.mutate(key, archs), generic.mutate(key, archs))
  np.testing.assert_array_equal(nb201.canonical_key(archs), np.arange(nasbench201.NUM_ARCHS))


def test_mutation_changes_exactly_what_it_should():
  archs = CELL.sample(jax.random.PRNGKey(1), 500)
  always = CELL.mutate(jax.random.PRNGKey(2), archs, mutation_rate=len(CELL.edges) - 2)
  assert np.all(np.asarray(always) != np.asarray(archs))  # every edge, to another op
  assert np.array_equal(CELL.mutate(jax.random.PRNGKey(2), archs, 0.0), archs)
  changed = np.asarray(CELL.mutate(jax.random.PRNGKey(3), archs)) != np.asarray(archs)
  assert abs(changed.mean() - 1 / 4) < 0.02  # rate 1 / (edges - 2) per edge


def test_neighbours_are_every_single_edit():
  arch = CELL.from_string('|c~0|+|a~0|b~1|+|b~0|a~1|c~2|')
  nbrs = np.asarray(CELL.neighbours(jnp.asarray(arch)))
  assert nbrs.shape == (6 * 2, 6)
  assert np.all((nbrs != arch).sum(axis=1) == 1)
  assert len({tuple(n) for n in nbrs}) == 12


def test_canonical_keys_equal_exactly_for_equal_cells():
  archs = CELL.sample(jax.random.PRNGKey(4), 300)
  keys = np.asarray(CELL.canonical_key(archs))
  same = (np.asarray(archs)[:, None] == np.asarray(archs)[None]).all(-1)
  assert np.array_equal(keys[:, None] == keys[None], same)
  np.testing.assert_array_equal(CELL.from_key(keys), archs)
  big = spaces.CellSpace(num_nodes=6, ops=tuple('abcdefgh'))  # 8^15 cells: hashed keys
  cells = big.sample(jax.random.PRNGKey(5), 200)
  hashed = np.asarray(big.canonical_key(cells))
  assert hashed.dtype == np.int32 and np.array_equal(hashed, big.canonical_key(cells + 0))
  assert len(set(hashed.tolist())) == 200


def test_a_five_node_cell_round_trips_and_runs_in_a_search():
  space = spaces.make('cell', num_nodes=5, ops=('conv', 'pool', 'skip', 'none'))
  archs = space.sample(jax.random.PRNGKey(6), 20)
  for arch in np.asarray(archs):
    assert np.array_equal(space.from_string(space.to_string(arch)), arch)
  assert space.to_string(np.zeros(10, np.int32)).count('conv~') == 10
  assert space.encoding_dim('path') == 4 + 16 + 64 + 256
  assert space.encoding_dim('graph') == 12 * (12 + 6)
  assert space.encode(archs, 'nasbot').shape == (20, 4 + 10)


@pytest.mark.parametrize('settings,message', [
    ({'num_nodes': 1}, 'at least 2 nodes'),
    ({'ops': ()}, 'at least one op'),
    ({'ops': ('a', 'b', 'a')}, "op 'a' is listed more than once"),
    ({'ops': ('a', 'b~c')}, "without \\|, ~ or \\+; got 'b~c'"),
])
def test_bad_cells_are_refused(settings, message):
  with pytest.raises(ValueError, match=message):
    spaces.CellSpace(**settings)


@pytest.mark.parametrize('text', ['', '|a~0|', '|a~0|+|a~0|b~2|+|b~0|a~1|c~2|', 7])
def test_malformed_cell_strings_are_refused(text):
  with pytest.raises(ValueError, match=r"malformed cell architecture string .*expected the "
                                       r"form '\|op~0\|\+\|op~0\|op~1\|\+"):
    CELL.from_string(text)
  with pytest.raises(ValueError, match="unknown cell op 'd'.*accepted: a, b, c"):
    CELL.from_string('|d~0|+|a~0|b~1|+|b~0|a~1|c~2|')


SPACE = spaces.CategoricalSpace.from_decisions(
    {'op': ['conv3x3', 'conv5x5', 'mbconv'], 'width': [16, 32, 64, 128], 'se': [False, True]})


def test_categorical_space_encodings_and_keys_by_hand():
  arch = SPACE.from_string('{"op": "mbconv", "width": 32, "se": true}')
  assert arch.tolist() == [2, 1, 1]
  assert SPACE.to_string(arch) == '{"op": "mbconv", "width": 32, "se": true}'
  onehot = np.asarray(SPACE.encode(jnp.asarray(arch[None]), 'onehot'))[0]
  assert np.flatnonzero(onehot).tolist() == [2, 3 + 1, 3 + 4 + 1]
  assert SPACE.encode(jnp.asarray(arch[None]), 'categorical').tolist() == [[2.0, 1.0, 1.0]]
  assert int(SPACE.canonical_key(jnp.asarray(arch[None]))[0]) == 2 + 1 * 3 + 1 * 12
  every = np.stack(np.meshgrid(*[np.arange(k) for k in SPACE.choices], indexing='ij'),
                   -1).reshape(-1, 3)
  assert sorted(np.asarray(SPACE.canonical_key(jnp.asarray(every))).tolist()) == list(range(24))


def test_categorical_mutation_and_neighbours():
  archs = SPACE.sample(jax.random.PRNGKey(7), 400)
  assert np.all(np.asarray(archs) < np.asarray(SPACE.choices))
  always = np.asarray(SPACE.mutate(jax.random.PRNGKey(8), archs, mutation_rate=3.0))
  assert np.all(always != np.asarray(archs)) and np.all(always < np.asarray(SPACE.choices))
  nbrs = np.asarray(SPACE.neighbours(jnp.asarray([2, 1, 1])))
  assert nbrs.shape == (2 + 3 + 1, 3) and np.all((nbrs != [2, 1, 1]).sum(axis=1) == 1)


@pytest.mark.parametrize('decisions,message', [
    ({}, 'at least one decision'),
    ({'op': []}, "decision 'op' has no options"),
    ({'width': [16, 32, 16]}, "decision 'width' lists option 16 more than once"),
])
def test_bad_categorical_spaces_are_refused(decisions, message):
  with pytest.raises(ValueError, match=message):
    spaces.CategoricalSpace.from_decisions(decisions)


def test_unknown_categorical_options_are_named():
  with pytest.raises(ValueError, match="unknown option 'conv7x7' for decision 'op'; accepted: "
                                       "'conv3x3', 'conv5x5', 'mbconv'"):
    SPACE.from_string('{"op": "conv7x7", "width": 32, "se": true}')
  with pytest.raises(ValueError, match='malformed categorical architecture'):
    SPACE.from_string('{"width": 32}')
