"""A cell space from a node count and an op list: every edge of the DAG carries one op.

Nodes ``0..N-1``; every pair ``i < j`` is an edge, ordered by destination then source
(``0->1, 0->2, 1->2, 0->3, ...``, the NAS-Bench-201 string order). An architecture is
``int32[E]``: one op index per edge. NAS-Bench-201 is ``CellSpace(num_nodes=4, ops=(5
ops))``; a researcher's own cell is one line, and gets the path encoding (every input-to-output
path's op sequence), sampling, mutation and the rest from the node count and the ops.

Every table an encoding needs (edges, paths, the op graph) is built once per space from the
two settings and applied with gathers and one-hots, so a batch encodes in one jit-compiled
function with no Python loop over cells or paths.
"""

import dataclasses
import functools
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from bananas_jax.spaces.base import (MAX_EXACT_KEYS, checked_encoding_dim, graph_encoding,
                                     mixed_radix_key, radix_weights)

def cell_edges(num_nodes):
  """``((src, dst), ...)``: every pair ``src < dst``, by destination then source."""
  return tuple((src, dst) for dst in range(1, num_nodes) for src in range(dst))


def cell_paths(num_nodes):
  """Every input-to-output path as its edge indices, from the input on, shortest first."""
  edge_of = {pair: e for e, pair in enumerate(cell_edges(num_nodes))}

  def from_node(node):
    if node == num_nodes - 1:
      return [()]
    return [(edge_of[(node, nxt)],) + rest
            for nxt in range(node + 1, num_nodes) for rest in from_node(nxt)]

  return tuple(sorted(from_node(0), key=len))


@dataclasses.dataclass(frozen=True)
class CellSpace:
  """Cells of ``num_nodes`` nodes with one of ``ops`` on every edge (docs/algorithm.md).

  ``label`` names the space in error messages. A spare op named ``'none'`` (no edge) is
  honoured by the ``nasbot`` encoding, which counts only the edges that carry something.
  """

  num_nodes: int = 4
  ops: tuple[str, ...] = ('conv3x3', 'conv1x1', 'skip_connect', 'none')
  name: str = 'cell'
  label: str = 'cell'
  encodings: ClassVar[tuple[str, ...]] = ('trunc_path', 'path', 'adjacency', 'categorical',
                                          'nasbot', 'graph')

  def __post_init__(self):
    if self.num_nodes < 2:
      raise ValueError(f'a cell needs at least 2 nodes (input and output), got '
                       f'num_nodes={self.num_nodes}')
    if not self.ops:
      raise ValueError('a cell needs at least one op; got an empty op list')
    repeated = sorted({op for op in self.ops if self.ops.count(op) > 1})
    if repeated:
      raise ValueError(f'op {repeated[0]!r} is listed more than once in {self.ops}')
    bad = [op for op in self.ops if not isinstance(op, str) or not op or set(op) & set('|~+')]
    if bad:
      raise ValueError(f'op names must be non-empty strings without |, ~ or +; got {bad[0]!r}')

  @property
  def edges(self):
    return cell_edges(self.num_nodes)

  @property
  def choices(self):
    """A policy's decisions: an op per edge."""
    return (len(self.ops),) * len(self.edges)

  def decisions(self):
    """``{decision name: its options}``: ``edge_<src>_<dst>`` for every edge (the names an
    Optuna objective suggests, see :mod:`bananas_jax.integrations.optuna_sampler`)."""
    return {f'edge_{src}_{dst}': self.ops for src, dst in self.edges}

  @property
  def num_archs(self):
    return len(self.ops)**len(self.edges)

  def empty(self, num):
    return jnp.zeros((num, len(self.edges)), jnp.int32)

  def is_valid(self, archs):
    """Every cell of the space is valid."""
    return jnp.ones(archs.shape[0], bool)

  def sample(self, key, num):
    """Every edge uniform over the ops."""
    return jax.random.randint(key, (num, len(self.edges)), 0, len(self.ops), jnp.int32)

  def mutate(self, key, archs, mutation_rate=1.0):
    """Each edge independently, with probability ``mutation_rate / (edges - 2)`` (the
    original NAS-Bench-201 code's rate, 1/4 there), takes a different op.

    A mutation may change nothing; search code then drops it as a duplicate.
    """
    flip_key, op_key = jax.random.split(key)
    num_ops = len(self.ops)
    flip = (jax.random.uniform(flip_key, archs.shape)
            < mutation_rate / max(len(self.edges) - 2, 1))
    shift = jax.random.randint(op_key, archs.shape, 1, max(num_ops, 2), jnp.int32)
    return jnp.where(flip & (num_ops > 1), (archs + shift) % num_ops, archs)

  def from_choices(self, choices):
    return choices.astype(jnp.int32)

  def to_choices(self, archs):
    return archs

  def neighbours(self, arch):
    """``int32[E (K - 1), E]``: every cell one edit away (one edge changed to another op)."""
    num_ops, num_edges = len(self.ops), len(self.edges)
    edge = jnp.repeat(jnp.arange(num_edges), num_ops - 1)
    new_op = (arch[edge] + jnp.tile(jnp.arange(1, num_ops), num_edges)) % num_ops
    return jnp.tile(arch, (edge.shape[0], 1)).at[jnp.arange(edge.shape[0]), edge].set(new_op)

  def canonical_key(self, archs):
    """The op list as one base-K number (exact, ``0..K^E - 1``) when the space has fewer
    than 2^31 cells, else a 31-bit hash of it (a collision drops one candidate of a search,
    never mislabels a result)."""
    return mixed_radix_key(archs, self.choices)

  def from_key(self, keys):
    """The cells with these exact keys: ``from_key(jnp.arange(num_archs))`` is the space."""
    if self.num_archs > MAX_EXACT_KEYS:
      raise ValueError(f'{self.label} has {self.num_archs} cells, too many for exact keys')
    weights = jnp.asarray(radix_weights(self.choices))
    return (jnp.asarray(keys)[..., None] // weights) % len(self.ops)

  # Encodings -----------------------------------------------------------------------------

  @functools.cached_property
  def _path_tables(self):
    """Padded path tables: edge indices, op-code weights (0 in padding), index offsets."""
    paths, num_ops = cell_paths(self.num_nodes), len(self.ops)
    longest = max(map(len, paths))
    base = {length: sum(num_ops**l for l in range(1, length)) for length in range(1, longest + 1)}
    edges = np.array([p + (0,) * (longest - len(p)) for p in paths], np.int32)
    weights = np.array([[num_ops**j if j < len(p) else 0 for j in range(longest)]
                        for p in paths], np.int32)
    offsets = np.array([base[len(p)] for p in paths], np.int32)
    return edges, weights, offsets

  @property
  def path_dim(self):
    """Every op sequence of length ``1..N-1``: ``K + K^2 + ... + K^(N-1)``."""
    return sum(len(self.ops)**length for length in range(1, self.num_nodes))

  @functools.cached_property
  def _op_graph(self):
    """The cell with its ops as nodes (the form graph predictors take): node 0 the input,
    node 1 + e edge e's op, the last node the output; op e feeds op f when e ends where f
    starts. The wiring is the same for every cell."""
    edges, last = self.edges, self.num_nodes - 1
    graph = np.zeros((len(edges) + 2, len(edges) + 2), np.float32)
    for e, (src, dst) in enumerate(edges):
      graph[0, 1 + e] = src == 0
      graph[1 + e, len(edges) + 1] = dst == last
      for f, (next_src, _) in enumerate(edges):
        graph[1 + e, 1 + f] = next_src == dst
    return graph

  def encode(self, archs, encoding='trunc_path', cutoff=40):
    self.encoding_dim(encoding, cutoff)  # refuses unknown names
    num_ops = len(self.ops)
    if encoding == 'categorical':
      return archs.astype(jnp.float32)
    if encoding == 'adjacency':
      return jax.nn.one_hot(archs, num_ops).reshape(archs.shape[0], -1)
    if encoding == 'nasbot':
      return self._nasbot(archs)
    if encoding == 'graph':  # labels: the ops, then input and output
      num = archs.shape[0]
      labels = jnp.concatenate([jnp.full((num, 1), num_ops), archs,
                                jnp.full((num, 1), num_ops + 1)], axis=1)
      return graph_encoding(self._op_graph, labels, num_ops + 2)
    path = self._path(archs)
    return path if encoding == 'path' else path[:, :cutoff]

  def encoding_dim(self, encoding='trunc_path', cutoff=40):
    num_edges, num_ops = len(self.edges), len(self.ops)
    dims = {'categorical': num_edges, 'adjacency': num_edges * num_ops, 'path': self.path_dim,
            'trunc_path': cutoff, 'nasbot': num_ops + 2 * self.num_nodes,
            'graph': (num_edges + 2) * (num_edges + 2 + num_ops + 2)}
    return checked_encoding_dim(self, dims, encoding, cutoff)

  def path_names(self):
    """What each path feature means, e.g. ``'conv1x1 -> skip_connect'``: the ops along one
    input-to-output path, in the ``path`` encoding's order (shortest paths first)."""
    num_ops = len(self.ops)
    return tuple(' -> '.join(self.ops[index // num_ops**j % num_ops] for j in range(length))
                 for length in range(1, self.num_nodes) for index in range(num_ops**length))

  def _path(self, archs):
    """``float32[B, path_dim]``: 1 where the cell has that op sequence from input to output."""
    edges, weights, offsets = self._path_tables
    codes = archs[:, edges]  # [B, paths, steps]
    index = jnp.sum(codes * weights, axis=-1) + offsets  # [B, paths]
    return jnp.max(jax.nn.one_hot(index, self.path_dim), axis=1)

  def _nasbot(self, archs):
    """NASBOT-like features: op counts, then the sorted in- and out-degrees of the nodes
    counting only edges that are not 'none' (a 'none' edge carries nothing)."""
    counts = jax.nn.one_hot(archs, len(self.ops)).sum(axis=1)
    none = self.ops.index('none') if 'none' in self.ops else -1
    live = (archs != none).astype(jnp.float32)
    src, dst = np.array(self.edges).T
    nodes = np.eye(self.num_nodes)
    out_degree, in_degree = live @ jnp.asarray(nodes[src]), live @ jnp.asarray(nodes[dst])
    return jnp.concatenate([counts, jnp.sort(in_degree, axis=1), jnp.sort(out_degree, axis=1)],
                           axis=1)

  # Text form -----------------------------------------------------------------------------

  @property
  def string_form(self):
    return '+'.join('|' + '|'.join(f'op~{src}' for src in range(dst)) + '|'
                    for dst in range(1, self.num_nodes))

  def to_string(self, arch):
    """``|op~0|+|op~0|op~1|+...``: node by node, each incoming edge as ``op~source``."""
    names = [self.ops[int(c)] for c in np.asarray(arch)]
    edge_of = {pair: e for e, pair in enumerate(self.edges)}
    return '+'.join('|' + '|'.join(f'{names[edge_of[(src, dst)]]}~{src}' for src in range(dst))
                    + '|' for dst in range(1, self.num_nodes))

  def from_string(self, text):
    """Parses :meth:`to_string`'s form; refuses anything else with a message naming it."""
    malformed = ValueError(f'malformed {self.label} architecture string {text!r}; '
                           f'expected the form {self.string_form!r}')
    if not isinstance(text, str):
      raise malformed
    nodes = text.strip().split('+')
    if len(nodes) != self.num_nodes - 1:
      raise malformed
    ops = []
    for dst, node in enumerate(nodes, start=1):
      if not (node.startswith('|') and node.endswith('|')) or len(node) < 2:
        raise malformed
      entries = node[1:-1].split('|')
      if len(entries) != dst:
        raise malformed
      for src, entry in enumerate(entries):
        op, _, source = entry.rpartition('~')
        if not op or source != str(src):
          raise malformed
        if op not in self.ops:
          raise ValueError(f'unknown {self.label} op {op!r} in {text!r}; '
                           f'accepted: {", ".join(self.ops)}')
        ops.append(self.ops.index(op))
    return np.array(ops, np.int32)

