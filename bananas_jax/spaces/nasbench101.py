"""The NAS-Bench-101 cell space.

A cell is a DAG on ``num_vertices`` (7) vertices: vertex 0 the input, the last the output,
the others inner vertices with one op each. A batch is a :class:`Cell` of
``matrix int8[B, 7, 7]`` (strictly upper-triangular 0/1) and ``ops int32[B, 5]`` (inner op
codes, :data:`OPS` order). Pruning, validity, encodings and the canonical key are static
index tables (the edges of every possible input-to-output path, every ordering of the inner
vertices) applied with gathers, so a whole batch runs in one jit-compiled function.

:func:`module_hash` gives the official NAS-Bench-101 hash on the host, to join with every
NAS-Bench-101 resource; :meth:`NASBench101Space.canonical_key` is the device-side key.
"""

import dataclasses
import functools
import hashlib
import itertools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bananas_jax.spaces.base import checked_encoding_dim, graph_encoding, until_valid

OPS = ('conv3x3-bn-relu', 'conv1x1-bn-relu', 'maxpool3x3')  # fixes every encoding index
NUM_OPS = len(OPS)
INPUT, OUTPUT = 'input', 'output'
_DEAD = NUM_OPS  # the op code a pruned vertex gets inside the canonical key
_NO_KEY = np.iinfo(np.int32).max


class Cell(NamedTuple):
  """A batch of cells (or one, without the batch axis)."""

  matrix: jax.Array  # int8[..., V, V], strictly upper-triangular
  ops: jax.Array  # int32[..., V - 2], codes into OPS


@dataclasses.dataclass(frozen=True)
class NASBench101Space:
  """NAS-Bench-101 with the original BANANAS semantics (docs/algorithm.md).

  ``num_vertices`` and ``max_edges`` are the official 7 and 9; a smaller ``num_vertices``
  gives the same rules on fewer vertices, a space small enough to tabulate completely
  (tests and smoke runs use 5 and 6).
  """

  num_vertices: int = 7
  max_edges: int = 9
  name: str = 'nasbench101'
  encodings: tuple[str, ...] = ('trunc_path', 'path', 'adjacency', 'categorical', 'graph')

  def __post_init__(self):
    if not 3 <= self.num_vertices <= 7:  # the key packs edges and ops into 31 bits
      raise ValueError(f'num_vertices must be in 3..7, got {self.num_vertices}')

  # ---- static tables ----------------------------------------------------------------
  @property
  def num_inner(self):
    return self.num_vertices - 2

  @functools.cached_property
  def edges(self):
    """``(src, dst)`` of the upper-triangular entries, row-major: the edge order."""
    return np.stack(np.triu_indices(self.num_vertices, 1)).astype(np.int32)

  @property
  def num_edges(self):
    return self.edges.shape[1]

  @property
  def choices(self):
    """A policy's decisions: each edge on or off, then an op per inner vertex."""
    return (2,) * self.num_edges + (NUM_OPS,) * self.num_inner

  @functools.cached_property
  def _paths(self):
    """Every input-to-output path of the full DAG (increasing inner-vertex sequences):
    an edge mask ``[P, E]``, its length in edges ``[P]``, its inner vertices padded with
    vertex 0 ``[P, I]`` and their weights ``3^i`` (0 on padding) ``[P, I]``."""
    edge_id = {(int(s), int(d)): e for e, (s, d) in enumerate(self.edges.T)}
    mask, length, nodes, weights = [], [], [], []
    inner = range(1, self.num_vertices - 1)
    for size in range(self.num_inner + 1):
      for seq in itertools.combinations(inner, size):
        hops = list(zip((0,) + seq, seq + (self.num_vertices - 1,)))
        mask.append(np.isin(np.arange(self.num_edges), [edge_id[h] for h in hops]))
        length.append(len(hops))
        nodes.append(list(seq) + [0] * (self.num_inner - size))
        weights.append([NUM_OPS**i for i in range(size)] + [0] * (self.num_inner - size))
    return (np.array(mask, np.int32), np.array(length, np.int32), np.array(nodes, np.int32),
            np.array(weights, np.int32))

  @property
  def path_dim(self):
    """Op sequences of length 0..num_inner: 1 + 3 + ... + 3^5 = 364 for 7 vertices."""
    return sum(NUM_OPS**length for length in range(self.num_inner + 1))

  def path_names(self):
    """What each path feature means, e.g. ``'input -> conv3x3-bn-relu -> output'``: the ops
    along one input-to-output path, in the ``path`` encoding's order."""
    names = []
    for index in range(self.path_dim):
      ops = []
      while index:  # the index is a bijective base-3 number of the ops, first op lowest
        ops.append(OPS[(index - 1) % NUM_OPS])
        index = (index - 1) // NUM_OPS
      names.append(' -> '.join([INPUT, *ops, OUTPUT]))
    return tuple(names)

  @functools.cached_property
  def _orderings(self):
    """Every relabelling of the inner vertices (input and output stay put) ``[O, V]``."""
    last = self.num_vertices - 1
    return np.array([(0,) + p + (last,) for p in itertools.permutations(range(1, last))],
                    np.int32)

  # ---- structure ----------------------------------------------------------------------
  def empty(self, num):
    return Cell(jnp.zeros((num, self.num_vertices, self.num_vertices), jnp.int8),
                jnp.zeros((num, self.num_inner), jnp.int32))

  def prune(self, cells):
    """``(matrix, live)``: the matrix without vertices off every input-to-output path, and
    ``bool[B, V]`` which vertices remain (none when the input does not reach the output)."""
    adj = cells.matrix.astype(jnp.int32)
    start = lambda vertex: jnp.broadcast_to(
        jax.nn.one_hot(vertex, self.num_vertices, dtype=jnp.int32), adj.shape[:2])
    from_input, to_output = start(0), start(self.num_vertices - 1)
    for _ in range(self.num_vertices - 1):
      from_input = jnp.minimum(from_input + jnp.einsum('bi,bij->bj', from_input, adj), 1)
      to_output = jnp.minimum(to_output + jnp.einsum('bij,bj->bi', adj, to_output), 1)
    live = (from_input * to_output).astype(bool)
    live = live & live[:, -1:]  # input cut off from output: nothing remains
    keep = live[:, :, None] & live[:, None, :]
    return jnp.where(keep, cells.matrix, 0).astype(jnp.int8), live

  def is_valid(self, cells):
    """Input reaches output, and at most ``max_edges`` edges remain after pruning."""
    matrix, live = self.prune(cells)
    edges = matrix.astype(jnp.int32).sum(axis=(1, 2))
    return live[:, -1] & (edges <= self.max_edges)

  def _matrix_of_bits(self, bits):
    src, dst = self.edges
    matrix = jnp.zeros(bits.shape[:1] + (self.num_vertices,) * 2, jnp.int8)
    return matrix.at[:, src, dst].set(bits.astype(jnp.int8))

  def _edge_bits(self, cells):
    src, dst = self.edges
    return cells.matrix[:, src, dst].astype(jnp.int32)

  # ---- sampling and mutation ----------------------------------------------------------
  def sample(self, key, num):
    """Every edge Bernoulli(0.5), every inner op uniform, rejected until valid."""

    def draw(key):
      edge_key, op_key = jax.random.split(key)
      bits = jax.random.bernoulli(edge_key, 0.5, (num, self.num_edges))
      ops = jax.random.randint(op_key, (num, self.num_inner), 0, NUM_OPS, jnp.int32)
      return Cell(self._matrix_of_bits(bits), ops)

    return until_valid(key, draw, self.is_valid)

  def mutate(self, key, cells, mutation_rate=1.0):
    """Each edge flips with probability ``rate / 21``, each inner op changes to another with
    probability ``rate / 5``; retried until valid (it may change nothing: a duplicate)."""
    num = cells.ops.shape[0]

    def draw(key):
      edge_key, flip_key, shift_key = jax.random.split(key, 3)
      flip = jax.random.uniform(edge_key, (num, self.num_edges)) < mutation_rate / self.num_edges
      bits = self._edge_bits(cells) ^ flip.astype(jnp.int32)
      change = jax.random.uniform(flip_key, cells.ops.shape) < mutation_rate / self.num_inner
      shift = jax.random.randint(shift_key, cells.ops.shape, 1, NUM_OPS, jnp.int32)
      return Cell(self._matrix_of_bits(bits), jnp.where(change, (cells.ops + shift) % NUM_OPS,
                                                        cells.ops))

    return until_valid(key, draw, self.is_valid)

  def from_choices(self, choices):
    choices = choices.astype(jnp.int32)
    return Cell(self._matrix_of_bits(choices[:, :self.num_edges]), choices[:, self.num_edges:])

  def to_choices(self, cells):
    return jnp.concatenate([self._edge_bits(cells), cells.ops], axis=1)

  def neighbours(self, cell):
    """Every cell one edit away: an edge flipped, or an inner op changed (valid or not)."""
    batch = jax.tree.map(lambda leaf: leaf[None], cell)
    bits = self._edge_bits(batch)[0]
    flips = bits ^ jnp.eye(self.num_edges, dtype=jnp.int32)
    edge_moves = Cell(self._matrix_of_bits(flips),
                      jnp.tile(cell.ops, (self.num_edges, 1)))
    vertex = jnp.repeat(jnp.arange(self.num_inner), NUM_OPS - 1)
    shift = jnp.tile(jnp.arange(1, NUM_OPS), self.num_inner)
    new_ops = jnp.tile(cell.ops, (vertex.shape[0], 1))
    new_ops = new_ops.at[jnp.arange(vertex.shape[0]), vertex].set(
        (cell.ops[vertex] + shift) % NUM_OPS)
    op_moves = Cell(jnp.tile(cell.matrix, (vertex.shape[0], 1, 1)), new_ops)
    return jax.tree.map(lambda a, b: jnp.concatenate([a, b]), edge_moves, op_moves)

  # ---- identity -------------------------------------------------------------------------
  def canonical_key(self, cells):
    """``int32[B]``, equal exactly when the pruned cells are isomorphic.

    The pruned cell is written, for every ordering of its inner vertices that keeps the
    matrix upper-triangular, as one 31-bit number (edge bits, then two bits per op, a
    pruned vertex counting as a fourth op); the key is the smallest. Isomorphic cells have
    the same set of such numbers, others disjoint sets, so the key is exact, not a hash.
    Invalid cells get a key too; search code never queries them.
    """
    matrix, live = self.prune(cells)
    ops = jnp.where(live[:, 1:-1], cells.ops, _DEAD)
    order = self._orderings  # [O, V]
    src, dst = self.edges
    upper = matrix[:, order[:, src], order[:, dst]].astype(jnp.int32)  # [B, O, E]
    lower = matrix[:, order[:, dst], order[:, src]].astype(jnp.int32)
    relabelled_ops = ops[:, order[:, 1:-1] - 1]  # [B, O, I]
    num_bits = self.num_edges + 2 * self.num_inner
    edge_weights = 2**np.arange(num_bits - 1, num_bits - 1 - self.num_edges, -1)
    op_weights = 4**np.arange(self.num_inner - 1, -1, -1)
    codes = upper @ edge_weights.astype(np.int32) + relabelled_ops @ op_weights.astype(np.int32)
    codes = jnp.where(lower.sum(axis=-1) == 0, codes, _NO_KEY)
    return jnp.min(codes, axis=1).astype(jnp.int32)

  # ---- encodings --------------------------------------------------------------------------
  def encode(self, cells, encoding='trunc_path', cutoff=40):
    """Features of the unpruned cell (as the original): paths, or edge bits and ops."""
    self.encoding_dim(encoding, cutoff)  # refuses unknown names
    if encoding in ('adjacency', 'categorical'):
      ops = (jax.nn.one_hot(cells.ops, NUM_OPS).reshape(cells.ops.shape[0], -1)
             if encoding == 'adjacency' else cells.ops)
      return jnp.concatenate([self._edge_bits(cells), ops], axis=1).astype(jnp.float32)
    if encoding == 'graph':  # the unpruned DAG; labels: the 3 ops, then input and output
      num = cells.ops.shape[0]
      labels = jnp.concatenate([jnp.full((num, 1), NUM_OPS), cells.ops,
                                jnp.full((num, 1), NUM_OPS + 1)], axis=1)
      return graph_encoding(cells.matrix, labels, NUM_OPS + 2)
    path = self._path(cells)
    return path if encoding == 'path' else path[:, :cutoff]

  def encoding_dim(self, encoding='trunc_path', cutoff=40):
    dims = {'adjacency': self.num_edges + NUM_OPS * self.num_inner,
            'categorical': self.num_edges + self.num_inner,
            'path': self.path_dim, 'trunc_path': cutoff,
            'graph': self.num_vertices * (self.num_vertices + NUM_OPS + 2)}
    return checked_encoding_dim(self, dims, encoding, cutoff)

  def _path(self, cells):
    """``float32[B, 364]``: 1 where some input-to-output path carries that op sequence; a
    path over inner ops m_0..m_{L-1} has index sum_i 3^i (m_i + 1)."""
    mask, length, nodes, weights = self._paths
    present = self._edge_bits(cells) @ mask.T == length  # [B, P]
    codes = cells.ops[:, nodes - 1] + 1  # [B, P, I]; padding reads a real op, weight 0
    index = jnp.sum(codes * weights, axis=-1)
    hits = jax.nn.one_hot(index, self.path_dim) * present[..., None]
    return jnp.max(hits, axis=1)

  # ---- text -------------------------------------------------------------------------------
  def to_string(self, cell):
    """The pruned cell as the official file writes it: ``'<adjacency bits>|<ops>'`` with the
    matrix row-major and the op names (input and output included) joined by commas."""
    matrix, ops = to_spec(cell)
    return ''.join(str(b) for b in matrix.ravel()) + '|' + ','.join(ops)

  def from_string(self, text):
    """Inverse of :meth:`to_string` (the official file's adjacency and ops fields)."""
    bits, sep, names = text.partition('|') if isinstance(text, str) else ('', '', '')
    n = int(round(len(bits)**0.5))
    if not sep or n * n != len(bits) or set(bits) - {'0', '1'}:
      raise ValueError(f'malformed NAS-Bench-101 cell string {text!r}; expected '
                       f"'<n*n digits 0/1>|input,<op>,...,output'")
    matrix = np.array([int(b) for b in bits], np.int8).reshape(n, n)
    return self.from_spec(matrix, names.split(','))

  def from_spec(self, matrix, ops):
    """One cell from a (pruned or full) 0/1 matrix and op names with input and output;
    smaller cells are padded with unconnected inner vertices, which pruning removes."""
    matrix = np.asarray(matrix, np.int8)
    n = matrix.shape[0]
    if matrix.shape != (n, n) or not 2 <= n <= self.num_vertices or np.tril(matrix).any():
      raise ValueError(f'matrix must be square, strictly upper-triangular, with 2 to '
                       f'{self.num_vertices} vertices; got shape {matrix.shape}')
    if len(ops) != n or ops[0] != INPUT or ops[-1] != OUTPUT:
      raise ValueError(f'ops {ops!r} must name {n} vertices, {INPUT!r} first and '
                       f'{OUTPUT!r} last')
    unknown = [op for op in ops[1:-1] if op not in OPS]
    if unknown:
      raise ValueError(f'unknown NAS-Bench-101 op {unknown[0]!r}; accepted: {", ".join(OPS)}')
    slots = list(range(n - 1)) + [self.num_vertices - 1]
    full = np.zeros((self.num_vertices,) * 2, np.int8)
    full[np.ix_(slots, slots)] = matrix
    codes = np.zeros(self.num_inner, np.int32)
    codes[:n - 2] = [OPS.index(op) for op in ops[1:-1]]
    return Cell(full, codes)


def to_spec(cell):
  """``(matrix, op names)`` of one cell after pruning, with input and output (host side)."""
  matrix = np.asarray(cell.matrix)
  names = [INPUT] + [OPS[int(c)] for c in np.asarray(cell.ops)] + [OUTPUT]
  return prune_spec(matrix, names)


def prune_spec(matrix, ops):
  """The host-side pruning of a single cell: vertices off every input-to-output path go.

  Returns ``(matrix, ops)``; a cell whose input does not reach its output comes back empty.
  """
  matrix = np.asarray(matrix, np.int64)
  n = matrix.shape[0]
  reach = np.linalg.matrix_power(np.eye(n, dtype=np.int64) + matrix, n) > 0
  live = reach[0] & reach[:, -1]
  return matrix[np.ix_(live, live)].astype(np.int8), [op for op, k in zip(ops, live) if k]


def module_hash(matrix, ops):
  """The official NAS-Bench-101 hash of a cell (prunes first): a 32-digit hex string.

  ``matrix`` is the 0/1 upper-triangular adjacency (any size up to 7), ``ops`` the op names
  with ``input`` first and ``output`` last.
  """
  matrix, ops = prune_spec(matrix, list(ops))
  labels = [-1 if op == INPUT else -2 if op == OUTPUT else OPS.index(op) for op in ops]
  in_degree, out_degree = matrix.sum(axis=0), matrix.sum(axis=1)
  md5 = lambda text: hashlib.md5(text.encode('utf-8')).hexdigest()
  digests = [md5(str((int(o), int(i), label)))
             for o, i, label in zip(out_degree, in_degree, labels)]
  for _ in range(len(labels)):
    digests = [md5(''.join(sorted(digests[u] for u in np.flatnonzero(matrix[:, v]))) + '|' +
                   ''.join(sorted(digests[w] for w in np.flatnonzero(matrix[v]))) + '|' +
                   digests[v])
               for v in range(len(labels))]
  return md5(str(sorted(digests)))
