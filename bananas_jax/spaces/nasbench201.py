"""The NAS-Bench-201 cell space.

A cell has 4 nodes and 6 edges, each edge one of 5 ops. An architecture is ``int32[6]``:
one op code per edge, edges in the official string order (0->1, 0->2, 1->2, 0->3, 1->3,
2->3), op codes in the original BANANAS order :data:`OPS`, which fixes every encoding
index. Encodings are static index tables applied with gathers and one-hots, so a whole
batch encodes in one jit-compiled function with no Python loop over cells or paths.
"""

import dataclasses
import re

import jax
import jax.numpy as jnp
import numpy as np

from bananas_jax.spaces.base import checked_encoding_dim, graph_encoding

OPS = ('avg_pool_3x3', 'nor_conv_1x1', 'nor_conv_3x3', 'none', 'skip_connect')
NUM_OPS = len(OPS)
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_EDGES = len(EDGES)
NUM_ARCHS = NUM_OPS**NUM_EDGES  # 15,625

# The four input-to-output paths, as edge indices; a path of L edges with op codes
# c_0..c_{L-1} has path-encoding index PATH_BASE[L] + sum_j c_j 5^j.
PATHS = ((3,), (0, 4), (1, 5), (0, 2, 5))
PATH_BASE = {1: 0, 2: 5, 3: 30}
PATH_DIM = 5 + 25 + 125  # 155

# Padded tables for the jit-compiled path encoding: padded slots read edge 0 with weight 0.
_PATH_EDGES = np.array([p + (0,) * (3 - len(p)) for p in PATHS], np.int32)
_PATH_WEIGHTS = np.array([[NUM_OPS**j if j < len(p) else 0 for j in range(3)] for p in PATHS],
                         np.int32)
_PATH_OFFSETS = np.array([PATH_BASE[len(p)] for p in PATHS], np.int32)
_KEY_WEIGHTS = NUM_OPS**np.arange(NUM_EDGES, dtype=np.int32)


def _op_graph():
  """The cell with its ops as nodes (the form graph predictors take): node 0 the input,
  node 1 + e edge e's op, node 7 the output. The wiring is the same for every cell: op e
  feeds op e' when edge e ends where e' starts."""
  graph = np.zeros((NUM_EDGES + 2, NUM_EDGES + 2), np.float32)
  for e, (src, dst) in enumerate(EDGES):
    if src == 0:
      graph[0, 1 + e] = 1
    if dst == 3:
      graph[1 + e, NUM_EDGES + 1] = 1
    for f, (next_src, _) in enumerate(EDGES):
      graph[1 + e, 1 + f] = float(next_src == dst)
  return graph


_OP_GRAPH = _op_graph()

_STRING_RE = re.compile(r'\|([a-z0-9_]+)~0\|\+\|([a-z0-9_]+)~0\|([a-z0-9_]+)~1\|\+'
                        r'\|([a-z0-9_]+)~0\|([a-z0-9_]+)~1\|([a-z0-9_]+)~2\|')
_STRING_FORM = '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'


@dataclasses.dataclass(frozen=True)
class NASBench201Space:
  """NAS-Bench-201 with the original BANANAS semantics (docs/algorithm.md)."""

  name: str = 'nasbench201'
  encodings: tuple[str, ...] = ('trunc_path', 'path', 'adjacency', 'categorical', 'nasbot',
                                'graph')
  choices: tuple[int, ...] = (NUM_OPS,) * NUM_EDGES  # a policy's decisions: an op per edge

  def empty(self, num):
    return jnp.zeros((num, NUM_EDGES), jnp.int32)

  def is_valid(self, archs):
    """Every cell of the space is in the benchmark."""
    return jnp.ones(archs.shape[0], bool)

  def sample(self, key, num):
    """Every edge uniform over the 5 ops."""
    return jax.random.randint(key, (num, NUM_EDGES), 0, NUM_OPS, jnp.int32)

  def mutate(self, key, archs, mutation_rate=1.0):
    """Each edge independently, with probability ``mutation_rate / 4``, takes a different op.

    A mutation may change nothing; search code then drops it as a duplicate.
    """
    flip_key, op_key = jax.random.split(key)
    flip = jax.random.uniform(flip_key, archs.shape) < mutation_rate / (NUM_OPS - 1)
    shift = jax.random.randint(op_key, archs.shape, 1, NUM_OPS, jnp.int32)
    return jnp.where(flip, (archs + shift) % NUM_OPS, archs)

  def from_choices(self, choices):
    """The architectures of a batch of decisions ``int32[B, len(choices)]``."""
    return choices.astype(jnp.int32)

  def to_choices(self, archs):
    """Inverse of :meth:`from_choices`."""
    return archs

  def neighbours(self, arch):
    """``int32[24, 6]``: every cell one edit away (one edge changed to another op)."""
    shifts = jnp.arange(1, NUM_OPS)
    edge = jnp.repeat(jnp.arange(NUM_EDGES), NUM_OPS - 1)
    new_op = (arch[edge] + jnp.tile(shifts, NUM_EDGES)) % NUM_OPS
    return jnp.tile(arch, (edge.shape[0], 1)).at[jnp.arange(edge.shape[0]), edge].set(new_op)

  def canonical_key(self, archs):
    """The base-5 number of the op list, 0..15624 (the original deduplicates by op list)."""
    return archs @ jnp.asarray(_KEY_WEIGHTS)

  def from_key(self, keys):
    """The architectures with these canonical keys (inverse of :meth:`canonical_key`):
    ``from_key(jnp.arange(NUM_ARCHS))`` is the whole space."""
    return (jnp.asarray(keys)[..., None] // jnp.asarray(_KEY_WEIGHTS)) % NUM_OPS

  def encode(self, archs, encoding='trunc_path', cutoff=40):
    self.encoding_dim(encoding, cutoff)  # refuses unknown names
    if encoding == 'categorical':
      return archs.astype(jnp.float32)
    if encoding == 'adjacency':
      return jax.nn.one_hot(archs, NUM_OPS).reshape(archs.shape[0], NUM_EDGES * NUM_OPS)
    if encoding == 'nasbot':
      return self._nasbot(archs)
    if encoding == 'graph':  # labels: the 5 ops, then input and output
      num = archs.shape[0]
      labels = jnp.concatenate([jnp.full((num, 1), NUM_OPS), archs,
                                jnp.full((num, 1), NUM_OPS + 1)], axis=1)
      return graph_encoding(_OP_GRAPH, labels, NUM_OPS + 2)
    path = self._path(archs)
    return path if encoding == 'path' else path[:, :cutoff]

  def path_names(self):
    """What each path feature means, e.g. ``'nor_conv_1x1 -> skip_connect'``: the ops along
    one input-to-output path, in the ``path`` encoding's order (shortest paths first)."""
    names = []
    for length in sorted(PATH_BASE):
      for index in range(NUM_OPS**length):
        names.append(' -> '.join(OPS[index // NUM_OPS**j % NUM_OPS] for j in range(length)))
    return tuple(names)

  def encoding_dim(self, encoding='trunc_path', cutoff=40):
    dims = {'categorical': NUM_EDGES, 'adjacency': NUM_EDGES * NUM_OPS, 'path': PATH_DIM,
            'trunc_path': cutoff, 'nasbot': NUM_OPS + 8,
            'graph': (NUM_EDGES + 2) * (NUM_EDGES + 2 + NUM_OPS + 2)}
    return checked_encoding_dim(self, dims, encoding, cutoff)

  def _path(self, archs):
    """``float32[B, 155]``: 1 where the cell has that sequence of ops from input to output."""
    codes = archs[:, _PATH_EDGES]  # [B, 4 paths, 3 steps]
    index = jnp.sum(codes * _PATH_WEIGHTS, axis=-1) + _PATH_OFFSETS  # [B, 4]
    return jnp.max(jax.nn.one_hot(index, PATH_DIM), axis=1)

  def _nasbot(self, archs):
    """NASBOT-like features: op counts, then the sorted in- and out-degrees of the 4 nodes
    counting only edges that are not 'none' (a 'none' edge carries nothing)."""
    counts = jax.nn.one_hot(archs, NUM_OPS).sum(axis=1)
    live = (archs != OPS.index('none')).astype(jnp.float32)
    src, dst = np.array(EDGES).T
    out_degree = live @ jnp.asarray(np.eye(4)[src])
    in_degree = live @ jnp.asarray(np.eye(4)[dst])
    return jnp.concatenate([counts, jnp.sort(in_degree, axis=1), jnp.sort(out_degree, axis=1)],
                           axis=1)

  def to_string(self, arch):
    names = [OPS[int(c)] for c in np.asarray(arch)]
    nodes = []
    for node in (1, 2, 3):
      edges = [e for e, (_, dst) in enumerate(EDGES) if dst == node]
      nodes.append('|' + '|'.join(f'{names[e]}~{EDGES[e][0]}' for e in edges) + '|')
    return '+'.join(nodes)

  def from_string(self, text):
    """Parses the official string; refuses anything else with a message naming it."""
    match = _STRING_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
      raise ValueError(f'malformed NAS-Bench-201 architecture string {text!r}; '
                       f'expected the form {_STRING_FORM!r}')
    unknown = [op for op in match.groups() if op not in OPS]
    if unknown:
      raise ValueError(f'unknown NAS-Bench-201 op {unknown[0]!r} in {text!r}; '
                       f'accepted: {", ".join(OPS)}')
    return np.array([OPS.index(op) for op in match.groups()], np.int32)
