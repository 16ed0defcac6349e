"""The DARTS cell space (normal and reduction cell), as searched by BANANAS.

An architecture is ``int32[2, 8, 2]``: cell (0 normal, 1 reduction), pair j (feeding
intermediate node j // 2, which is node 2 + j // 2 of the cell), (input node, op). Nodes 0
and 1 are the outputs of the two previous cells; pair j may read any node before its own,
and the two pairs of a node read different nodes. Op codes follow :data:`OPS`.

Encodings are static index tables applied with gathers: adjacency (one-hots of each pair's
input and op) and path (one feature per op sequence from an input node to the cell output).
"""

import ast
import dataclasses
import threading

import jax
import jax.numpy as jnp
import numpy as np

from bananas_jax.spaces.base import checked_encoding_dim, graph_encoding, hash_rows, until_valid

OPS = ('none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5',
       'dil_conv_3x3', 'dil_conv_5x5')
NUM_OPS = len(OPS)
NUM_PAIRS = 8
NUM_NODES = 4  # intermediate nodes per cell
NUM_INPUT_NODES = NUM_NODES + 1  # a pair reads one of nodes 0..4 (node 5 feeds only the output)
_NODE_OF_PAIR = np.arange(NUM_PAIRS) // 2
_INPUT_CHOICES = _NODE_OF_PAIR + 2  # pair j reads a node in 0 .. node(j) + 1
_BLOCK = sum(NUM_OPS**length for length in range(NUM_NODES + 1))  # 4,681 per input node
PATH_DIM = 2 * 2 * _BLOCK  # (cell, input node) blocks: 18,724


def _chains():
  """Every path from an input node to the cell output, as the chain of pairs it takes:
  the first pair reads input node 0 or 1, each next pair reads the node the previous one
  feeds, and any intermediate node goes on to the output (the cell concatenates them all).
  Returns the pairs ``[P, 4]`` (padded), the node each pair must read ``[P, 4]``, the
  lengths ``[P]`` and the start nodes ``[P]``."""
  found, stack = [], [(start, start, []) for start in (0, 1)]
  while stack:
    start, node, pairs = stack.pop()
    for j in range(NUM_PAIRS):
      if _NODE_OF_PAIR[j] + 2 > node:
        chain = [*pairs, (j, node)]
        found.append((start, chain))
        stack.append((start, int(_NODE_OF_PAIR[j]) + 2, chain))
  pad = lambda chain, i: [link[i] for link in chain] + [0] * (NUM_NODES - len(chain))
  return (np.array([pad(c, 0) for _, c in found], np.int32),
          np.array([pad(c, 1) for _, c in found], np.int32),
          np.array([len(c) for _, c in found], np.int32),
          np.array([start for start, _ in found], np.int32))


_CHAIN_PAIRS, _CHAIN_READS, _CHAIN_LEN, _CHAIN_START = _chains()

# The graph form, per cell: nodes 0 and 1 the cell's inputs, node 2 + j pair j's op, node 10
# the output (fed by every op: the cell concatenates all its intermediate nodes). A pair
# reading input node n is fed by node n (n < 2) or by the two ops that sum into node n.
_GRAPH_NODES = 2 + NUM_PAIRS + 1
_FED_BY = np.zeros((NUM_INPUT_NODES, _GRAPH_NODES), np.float32)
_FED_BY[[0, 1], [0, 1]] = 1
for _n in range(2, NUM_INPUT_NODES):
  _FED_BY[_n, [2 * _n - 2, 2 * _n - 1]] = 1


@dataclasses.dataclass(frozen=True)
class DartsSpace:
  """The DARTS space with the original BANANAS semantics (docs/algorithm.md)."""

  name: str = 'darts'
  encodings: tuple[str, ...] = ('trunc_path', 'path', 'adjacency', 'graph')
  choices: tuple[int, ...] = tuple(
      c for _ in range(2) for j in range(NUM_PAIRS) for c in (int(_INPUT_CHOICES[j]), NUM_OPS))

  def empty(self, num):
    """Placeholders: each node reads nodes 0 and 1 through 'none' (valid, never queried)."""
    inputs = np.tile([0, 1], NUM_NODES)
    arch = np.stack([inputs, np.zeros(NUM_PAIRS, int)], axis=-1)
    return jnp.broadcast_to(jnp.asarray(arch, jnp.int32), (num, 2, NUM_PAIRS, 2))

  def is_valid(self, archs):
    inputs, ops = archs[..., 0], archs[..., 1]
    in_range = (inputs >= 0) & (inputs < _INPUT_CHOICES) & (ops >= 0) & (ops < NUM_OPS)
    distinct = inputs[..., 0::2] != inputs[..., 1::2]
    return jnp.all(in_range, axis=(1, 2)) & jnp.all(distinct, axis=(1, 2))

  def sample(self, key, num):
    """Ops uniform over the 8; each node's two inputs distinct, uniform over earlier nodes."""
    input_key, op_key = jax.random.split(key)
    first = jax.random.randint(input_key, (num, 2, NUM_NODES), 0, _INPUT_CHOICES[0::2])
    # The second input: uniform over the other earlier nodes (skip the first one).
    other = jax.random.randint(jax.random.fold_in(input_key, 1), (num, 2, NUM_NODES), 0,
                               _INPUT_CHOICES[0::2] - 1)
    second = other + (other >= first)
    inputs = jnp.stack([first, second], axis=-1).reshape(num, 2, NUM_PAIRS)
    ops = jax.random.randint(op_key, (num, 2, NUM_PAIRS), 0, NUM_OPS)
    return jnp.stack([inputs, ops], axis=-1).astype(jnp.int32)

  def mutate(self, key, archs, mutation_rate=1.0):
    """One edit of one pair of one cell: a different op, or (half the time) a different
    input, kept distinct from its sibling's; retried until valid. ``mutation_rate`` is
    unused: the original makes exactly one edit."""
    del mutation_rate
    num = archs.shape[0]

    def draw(key):
      cell_key, pair_key, kind_key, value_key = jax.random.split(key, 4)
      cell = jax.random.randint(cell_key, (num,), 0, 2)
      pair = jax.random.randint(pair_key, (num,), 0, NUM_PAIRS)
      field = jax.random.randint(kind_key, (num,), 0, 2)  # 0: input, 1: op
      size = jnp.where(field == 0, jnp.asarray(_INPUT_CHOICES)[pair], NUM_OPS)
      rows = jnp.arange(num)
      old = archs[rows, cell, pair, field]
      shift = jax.random.randint(value_key, (num,), 1, jnp.maximum(size, 2))
      new = (old + shift) % size
      return archs.at[rows, cell, pair, field].set(new)  # a clash with the sibling: invalid

    return until_valid(key, draw, self.is_valid)

  def from_choices(self, choices):
    return choices.astype(jnp.int32).reshape(-1, 2, NUM_PAIRS, 2)

  def to_choices(self, archs):
    return archs.reshape(archs.shape[0], -1)

  def neighbours(self, arch):
    """Every architecture one edit away: each pair's op changed, or its input (some invalid)."""
    cell, pair, field, value = np.array(
        [(c, j, f, v) for c in range(2) for j in range(NUM_PAIRS)
         for f, size in ((0, _INPUT_CHOICES[j]), (1, NUM_OPS)) for v in range(1, size)]).T
    rows = np.arange(len(cell))
    sizes = np.where(field == 0, _INPUT_CHOICES[pair], NUM_OPS)
    tiled = jnp.tile(arch[None], (len(cell), 1, 1, 1))
    new = (arch[cell, pair, field] + value) % sizes
    return tiled.at[rows, cell, pair, field].set(new)

  def canonical(self, archs):
    """The two pairs of each node in sorted order (a node sums its two inputs)."""
    code = archs[..., 0] * NUM_OPS + archs[..., 1]
    a, b = code[..., 0::2], code[..., 1::2]
    swap = (a > b)[..., None]
    first, second = archs[:, :, 0::2], archs[:, :, 1::2]
    lo, hi = jnp.where(swap, second, first), jnp.where(swap, first, second)
    return jnp.stack([lo, hi], axis=3).reshape(archs.shape)

  def canonical_key(self, archs):
    """``int32[B]``: a 31-bit hash of :meth:`canonical` (the space has ~10^26 cells, too
    many for an exact int32 key). Keys only deduplicate a search's own queries; a collision
    (about 1 in 10^5 for a 600-architecture search) drops one candidate, never mislabels."""
    return hash_rows(self.canonical(archs))

  def encode(self, archs, encoding='trunc_path', cutoff=100):
    self.encoding_dim(encoding, cutoff)
    if encoding == 'adjacency':
      canon = self.canonical(archs)
      inputs = jax.nn.one_hot(canon[..., 0], NUM_INPUT_NODES)
      ops = jax.nn.one_hot(canon[..., 1], NUM_OPS)
      return jnp.concatenate([inputs, ops], axis=-1).reshape(archs.shape[0], -1)
    if encoding == 'graph':
      return self._graph(archs)
    path = self._path(archs)
    return path if encoding == 'path' else path[:, :cutoff]

  def encoding_dim(self, encoding='trunc_path', cutoff=100):
    dims = {'adjacency': 2 * NUM_PAIRS * (NUM_INPUT_NODES + NUM_OPS), 'path': PATH_DIM,
            'trunc_path': cutoff, 'graph': 2 * _GRAPH_NODES * (2 * _GRAPH_NODES + NUM_OPS + 2)}
    return checked_encoding_dim(self, dims, encoding, cutoff)

  def _graph(self, archs):
    """Both cells' op graphs as one graph of 22 nodes (normal cell first, no edges between
    them); labels: the 8 ops, then input and output."""
    num = archs.shape[0]
    ops = jnp.arange(2, 2 + NUM_PAIRS)
    cell = jnp.zeros((num, 2, _GRAPH_NODES, _GRAPH_NODES))
    cell = cell.at[:, :, :, ops].set(jnp.swapaxes(jnp.asarray(_FED_BY)[archs[..., 0]], -1, -2))
    cell = cell.at[:, :, ops, _GRAPH_NODES - 1].set(1.0)
    adjacency = jnp.zeros((num, 2 * _GRAPH_NODES, 2 * _GRAPH_NODES))
    adjacency = adjacency.at[:, :_GRAPH_NODES, :_GRAPH_NODES].set(cell[:, 0])
    adjacency = adjacency.at[:, _GRAPH_NODES:, _GRAPH_NODES:].set(cell[:, 1])
    ends = jnp.broadcast_to(jnp.asarray([NUM_OPS, NUM_OPS], jnp.int32), (num, 2, 2))
    labels = jnp.concatenate([ends, archs[..., 1], ends[..., :1] + 1], axis=-1)
    return graph_encoding(adjacency, labels.reshape(num, -1), NUM_OPS + 2)

  def _path(self, archs):
    """``float32[B, 18724]``, ordered by path length first, so that truncating keeps the
    shortest paths of every (cell, input node): index = offset(length) + block * 8^length
    + sum_i 8^i op_i, blocks (cell, input node)."""
    inputs, ops = archs[..., 0], archs[..., 1]  # [B, 2, 8]
    pairs, length = _CHAIN_PAIRS, jnp.asarray(_CHAIN_LEN)
    step = jnp.arange(NUM_NODES)
    used = step < length[:, None]  # [P, 4]
    # A chain exists in a cell when each of its pairs reads the node it must.
    reads = inputs[:, :, pairs] == _CHAIN_READS  # [B, 2, P, 4]
    exists = jnp.all(reads | ~used, axis=-1)  # [B, 2, P]
    chain_ops = ops[:, :, pairs]  # [B, 2, P, 4]
    code = jnp.sum(jnp.where(used, chain_ops * NUM_OPS**step, 0), axis=-1)
    offsets = np.array([4 * sum(NUM_OPS**k for k in range(n)) for n in range(NUM_NODES + 1)])
    block = jnp.arange(2)[:, None] * 2 + jnp.asarray(_CHAIN_START)  # [2 cells, P]
    index = jnp.asarray(offsets)[length] + block * NUM_OPS**length + code
    rows = jnp.arange(archs.shape[0])[:, None]
    flat = lambda a: a.reshape(archs.shape[0], -1)  # a scatter: a one-hot would be 2 x 160 x 18,724
    return jnp.zeros((archs.shape[0], PATH_DIM)).at[rows, flat(index)].max(
        flat(exists).astype(jnp.float32))

  # ---- genotypes ----------------------------------------------------------------------
  def to_genotype(self, arch):
    """``{'normal': [(op, input), ...], 'reduce': [...]}`` in DARTS notation."""
    arch = np.asarray(arch)
    return {cell: [(OPS[int(op)], int(node)) for node, op in arch[c]]
            for c, cell in enumerate(('normal', 'reduce'))}

  def from_genotype(self, genotype):
    """An architecture from DARTS notation (a dict or an object with ``normal``, ``reduce``)."""
    get = genotype.get if isinstance(genotype, dict) else lambda k: getattr(genotype, k)
    arch = np.zeros((2, NUM_PAIRS, 2), np.int32)
    for c, cell in enumerate(('normal', 'reduce')):
      pairs = list(get(cell))
      if len(pairs) != NUM_PAIRS:
        raise ValueError(f'a DARTS {cell} cell has {NUM_PAIRS} (op, input) pairs, got {len(pairs)}')
      for j, (op, node) in enumerate(pairs):
        if op not in OPS:
          raise ValueError(f'unknown DARTS op {op!r}; accepted: {", ".join(OPS)}')
        arch[c, j] = (node, OPS.index(op))
    if not bool(self.is_valid(jnp.asarray(arch)[None])[0]):
      raise ValueError(f'invalid DARTS genotype {genotype!r}: pair j must read a node below '
                       f'j // 2 + 2, and the two pairs of a node different nodes')
    return arch

  def to_string(self, arch):
    g = self.to_genotype(arch)
    return (f"Genotype(normal={g['normal']}, normal_concat=[2, 3, 4, 5], "
            f"reduce={g['reduce']}, reduce_concat=[2, 3, 4, 5])")

  # CPython 3.11's parser is not safe in threads: concurrent ast.parse calls raised
  # "SystemError: AST constructor recursion depth mismatch" when the DARTS search's
  # trainings (threads) each parsed their genotype.
  _PARSING = threading.Lock()

  def from_string(self, text):
    """Parses DARTS genotype text (``Genotype(normal=[...], ..., reduce=[...], ...)``, as
    :meth:`to_string` writes it and DARTS code prints it), or a name in :data:`GENOTYPES`."""
    if text in GENOTYPES:
      return self.from_genotype(GENOTYPES[text])
    try:
      with self._PARSING:
        call = ast.parse(text.strip(), mode='eval').body
        cells = {k.arg: ast.literal_eval(k.value) for k in call.keywords
                 if k.arg in ('normal', 'reduce')}
      if set(cells) != {'normal', 'reduce'}:
        raise ValueError
    except (AttributeError, ValueError, SyntaxError, TypeError):
      raise ValueError(f'malformed DARTS genotype {text!r}; expected a name '
                       f'({", ".join(GENOTYPES)}) or "Genotype(normal=[(op, input), ...], '
                       f'normal_concat=[2, 3, 4, 5], reduce=[...], '
                       f'reduce_concat=[2, 3, 4, 5])"') from None
    return self.from_genotype(cells)


GENOTYPES = {
    # The cell BANANAS found on DARTS (2.57% test error on CIFAR-10, best seed).
    'BANANAS': {
        'normal': [('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_5x5', 2),
                   ('sep_conv_5x5', 0), ('skip_connect', 0), ('sep_conv_5x5', 2),
                   ('sep_conv_3x3', 0), ('skip_connect', 2)],
        'reduce': [('sep_conv_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 0), ('none', 1),
                   ('dil_conv_3x3', 2), ('sep_conv_5x5', 3), ('sep_conv_5x5', 4),
                   ('sep_conv_3x3', 1)]},
    # The DARTS paper's second-order cell (3.3M parameters at 36 channels, 20 cells).
    'DARTS_V2': {
        'normal': [('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0),
                   ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0),
                   ('skip_connect', 0), ('dil_conv_3x3', 2)],
        'reduce': [('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2),
                   ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2),
                   ('skip_connect', 2), ('max_pool_3x3', 1)]},
}
