import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bananas_jax import spaces
from bananas_jax.spaces import nasbench201 as nb

SPACE = spaces.make('nasbench201')
BEST = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|'


def reference_path(ops):
  """Enumerates input-to-output paths node by node, in plain Python."""
  edge_of = {pair: e for e, pair in enumerate(nb.EDGES)}
  features = np.zeros(nb.PATH_DIM, np.float32)

  def walk(node, codes):
    if node == 3:
      index = {1: 0, 2: 5, 3: 30}[len(codes)] + sum(c * 5**j for j, c in enumerate(codes))
      features[index] = 1
      return
    for nxt in range(node + 1, 4):
      walk(nxt, codes + [int(ops[edge_of[(node, nxt)]])])

  walk(0, [])
  return features


def test_string_parse_and_format():
  arch = SPACE.from_string(BEST)
  np.testing.assert_array_equal(arch, [2, 2, 2, 4, 2, 1])
  assert SPACE.to_string(arch) == BEST


def test_path_encoding_worked_example():
  path = np.asarray(SPACE.encode(jnp.asarray([SPACE.from_string(BEST)]), 'path'))[0]
  # skip (4) on edge 0->3; conv3x3, conv3x3 on 0->1->3: 5 + 2 + 2*5; conv3x3, conv1x1 on
  # 0->2->3: 5 + 2 + 1*5; conv3x3 x2, conv1x1 on 0->1->2->3: 30 + 2 + 2*5 + 1*25.
  assert np.flatnonzero(path).tolist() == [4, 12, 17, 67]
  trunc = np.asarray(SPACE.encode(jnp.asarray([SPACE.from_string(BEST)]), 'trunc_path', 40))[0]
  assert np.flatnonzero(trunc).tolist() == [4, 12, 17]


def test_path_encoding_counts_a_repeated_path_once():
  arch = jnp.zeros((1, 6), jnp.int32)  # all avg_pool: paths 0->1->3 and 0->2->3 coincide
  assert np.flatnonzero(np.asarray(SPACE.encode(arch, 'path'))[0]).tolist() == [0, 5, 30]


def test_path_encoding_matches_reference_on_all_cells():
  archs = SPACE.from_key(jnp.arange(nb.NUM_ARCHS))
  fast = np.asarray(jax.jit(lambda a: SPACE.encode(a, 'path'))(archs))
  for i in range(0, nb.NUM_ARCHS, 7):  # a spread of cells; every op on every edge appears
    np.testing.assert_array_equal(fast[i], reference_path(np.asarray(archs[i])))


@pytest.mark.parametrize('encoding,dim', [('adjacency', 30), ('categorical', 6),
                                          ('path', 155), ('trunc_path', 40)])
def test_encodings_same_jitted_vmapped_and_one_by_one(encoding, dim):
  archs = SPACE.sample(jax.random.PRNGKey(0), 64)
  eager = SPACE.encode(archs, encoding)
  jitted = jax.jit(lambda a: SPACE.encode(a, encoding))(archs)
  vmapped = jax.vmap(lambda a: SPACE.encode(a[None], encoding)[0])(archs)
  single = np.stack([SPACE.encode(archs[i:i + 1], encoding)[0] for i in range(64)])
  assert eager.shape == (64, dim) == (64, SPACE.encoding_dim(encoding))
  for other in (jitted, vmapped, single):
    np.testing.assert_array_equal(eager, other)


def test_adjacency_is_one_hot_per_edge():
  enc = np.asarray(SPACE.encode(jnp.asarray([[0, 1, 2, 3, 4, 0]]), 'adjacency'))[0]
  assert np.flatnonzero(enc).tolist() == [0, 6, 12, 18, 24, 25]


def test_canonical_key_is_a_bijection():
  keys = jnp.arange(nb.NUM_ARCHS)
  np.testing.assert_array_equal(SPACE.canonical_key(SPACE.from_key(keys)), keys)


def test_mutation_changes_edges_at_the_original_rate():
  archs = SPACE.sample(jax.random.PRNGKey(1), 20000)
  mutated = SPACE.mutate(jax.random.PRNGKey(2), archs, 1.0)
  changed = np.asarray(mutated != archs)
  assert abs(changed.mean() - 0.25) < 0.01
  assert mutated.min() >= 0 and mutated.max() < 5


def test_sampling_is_uniform_over_ops():
  counts = np.bincount(np.asarray(SPACE.sample(jax.random.PRNGKey(3), 20000)).ravel(), minlength=5)
  assert np.all(np.abs(counts / counts.sum() - 0.2) < 0.01)


@pytest.mark.parametrize('text', [
    '', 'nor_conv_3x3', BEST[:-1], BEST.replace('~1', '~2'), 42,
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|',
])
def test_malformed_strings_are_refused(text):
  with pytest.raises(ValueError, match='malformed NAS-Bench-201 architecture string'):
    SPACE.from_string(text)


def test_unknown_op_is_named():
  with pytest.raises(ValueError, match="unknown NAS-Bench-201 op 'conv_7x7'.*accepted: avg_pool_3x3"):
    SPACE.from_string(BEST.replace('nor_conv_1x1', 'conv_7x7'))


def test_unknown_encoding_and_space_are_named():
  with pytest.raises(ValueError, match="unknown encoding 'paths'.*accepted: trunc_path, path"):
    SPACE.encoding_dim('paths')
  with pytest.raises(ValueError, match='cutoff 200 out of range'):
    SPACE.encoding_dim('trunc_path', 200)
  with pytest.raises(ValueError, match="unknown search space 'nasbench301'.*accepted: nasbench201"):
    spaces.make('nasbench301')


def test_path_names_of_a_worked_example():
  arch = SPACE.from_string('|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+'
                           '|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|')
  present = np.flatnonzero(np.asarray(SPACE.encode(arch[None], 'path'))[0])
  assert [SPACE.path_names()[i] for i in present] == [
      'skip_connect',  # edge 0->3
      'nor_conv_3x3 -> avg_pool_3x3',  # 0->2->3, index 5 + 2 + 5 * 0
      'nor_conv_3x3 -> nor_conv_3x3',  # 0->1->3, index 5 + 2 + 5 * 2
      'nor_conv_3x3 -> nor_conv_3x3 -> avg_pool_3x3']  # 0->1->2->3
  assert len(SPACE.path_names()) == nb.PATH_DIM and len(set(SPACE.path_names())) == nb.PATH_DIM
