"""The search-space interface and pytree helpers for architecture batches.

An architecture batch is a pytree of integer arrays sharing a leading batch axis
(NAS-Bench-201: one ``int32[B, 6]`` array). Every function of a space works on such
batches, is pure and jit-able, and takes an explicit ``jax.random`` key where it samples.
Algorithms are written against this protocol only, so a new space plugs in by
implementing it and registering it in :mod:`bananas_jax.spaces`.
"""

import dataclasses
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np

Archs = Any  # a pytree of int arrays with a leading batch axis


class SearchSpace(Protocol):
  """What an algorithm may ask of a search space."""

  name: str
  encodings: tuple[str, ...]  # accepted ``encoding`` names, the default first
  choices: tuple[int, ...]  # options of each categorical decision that builds a cell

  def empty(self, num: int) -> Archs:
    """A batch of ``num`` placeholder architectures (fixed-capacity buffers)."""

  def is_valid(self, archs: Archs) -> jax.Array:
    """``bool[B]``: which architectures the benchmark can evaluate."""

  def sample(self, key: jax.Array, num: int) -> Archs:
    """``num`` random architectures with the original sampling semantics."""

  def mutate(self, key: jax.Array, archs: Archs, mutation_rate: float) -> Archs:
    """One mutation of every architecture in the batch."""

  def from_choices(self, choices: jax.Array) -> Archs:
    """The architectures of decisions ``int32[B, len(choices)]`` (for policies)."""

  def to_choices(self, archs: Archs) -> jax.Array:
    """Inverse of :meth:`from_choices`."""

  def neighbours(self, arch: Archs) -> Archs:
    """Every architecture one edit away from one (unbatched) architecture, as a batch;
    some may be invalid."""

  def canonical_key(self, archs: Archs) -> jax.Array:
    """``int32[B]``: equal exactly when two architectures count as duplicates."""

  def encode(self, archs: Archs, encoding: str, cutoff: int) -> jax.Array:
    """``float32[B, D]`` features for a predictor; ``'graph'`` gives ``float32[B, nodes,
    nodes + labels]`` for graph networks (:func:`graph_encoding`)."""

  def encoding_dim(self, encoding: str, cutoff: int) -> int:
    """``D`` of :meth:`encode`; raises ValueError naming the accepted values."""

  def to_string(self, arch: Archs) -> str:
    """The official text form of one (unbatched) architecture."""


def checked_encoding_dim(space, dims: dict, encoding: str, cutoff: int) -> int:
  """``dims[encoding]``, after refusing unknown encodings and a ``trunc_path`` cutoff outside
  ``1..dims['path']``, with messages naming the accepted values (for ``encoding_dim``)."""
  if encoding not in dims:
    raise ValueError(f'unknown encoding {encoding!r} for {space.name}; '
                     f'accepted: {", ".join(space.encodings)}')
  if encoding == 'trunc_path' and not 1 <= cutoff <= dims['path']:
    raise ValueError(f'cutoff {cutoff} out of range for {space.name}; '
                     f'accepted: 1..{dims["path"]}')
  return dims[encoding]


def graph_encoding(adjacency, labels, num_labels: int) -> jax.Array:
  """A batch of labelled DAGs as one array, ``float32[B, N, N + num_labels]``: row ``i`` is
  node ``i``'s outgoing edges (``adjacency[b, i, j] = 1`` for an edge i -> j) followed by the
  one-hot of its label, so a graph network reads both from one encoding."""
  adjacency = jnp.broadcast_to(jnp.asarray(adjacency, jnp.float32),
                               labels.shape + labels.shape[-1:])
  return jnp.concatenate([adjacency, jax.nn.one_hot(labels, num_labels)], axis=-1)


def hash_rows(digits):
  """``int32[B]``: a 31-bit FNV-style hash of each row of small non-negative integers."""
  digits = digits.reshape(digits.shape[0], -1).astype(jnp.uint32)
  h = jnp.full(digits.shape[0], 2166136261, jnp.uint32)
  for i in range(digits.shape[1]):
    h = (h ^ digits[:, i]) * jnp.uint32(16777619)
    h = h ^ (h >> 15)
  return (h >> 1).astype(jnp.int32)


MAX_EXACT_KEYS = 2**31  # spaces up to this size get exact int32 canonical keys


def radix_weights(radices) -> np.ndarray:
  """``int32[D]``: the place values of a mixed-radix number with digit ``d`` in
  ``0..radices[d] - 1`` (the first digit least significant)."""
  return np.cumprod((1,) + tuple(radices[:-1]), dtype=np.int64).astype(np.int32)


def mixed_radix_key(digits, radices) -> jax.Array:
  """``int32[B]``: each row of digits as its exact mixed-radix number when the space has at
  most :data:`MAX_EXACT_KEYS` rows, else a 31-bit hash of it (:func:`hash_rows`; a collision
  drops one candidate of a search, never mislabels a result)."""
  if np.prod(radices, dtype=np.float64) <= MAX_EXACT_KEYS:
    return digits @ jnp.asarray(radix_weights(radices))
  return hash_rows(digits)


def take(archs: Archs, index: jax.Array) -> Archs:
  """Gathers rows ``index`` of every leaf."""
  return jax.tree.map(lambda leaf: leaf[index], archs)


def concat(*batches: Archs) -> Archs:
  """Concatenates batches along the batch axis."""
  return jax.tree.map(lambda *leaves: jnp.concatenate(leaves), *batches)


def where(pred: jax.Array, on_true: Archs, on_false: Archs) -> Archs:
  """Row-wise select: ``pred[B]`` picks between two batches."""

  def select(a, b):
    return jnp.where(pred.reshape(pred.shape + (1,) * (a.ndim - 1)), a, b)

  return jax.tree.map(select, on_true, on_false)


def until_valid(key: jax.Array, draw, is_valid) -> Archs:
  """Rejection sampling for a whole batch in one while loop: ``draw(key)`` makes a batch,
  and each row keeps its first valid draw."""

  def some_invalid(carry):
    return ~jnp.all(carry[1])

  def redraw(carry):
    archs, ok, key = carry
    key, draw_key = jax.random.split(key)
    new = draw(draw_key)
    fresh = ~ok & is_valid(new)
    return where(fresh, new, archs), ok | fresh, key

  key, draw_key = jax.random.split(key)
  first = draw(draw_key)
  archs, _, _ = jax.lax.while_loop(some_invalid, redraw, (first, is_valid(first), key))
  return archs


@dataclasses.dataclass(frozen=True, eq=False)
class UniformOverRows:
  """A space whose random architectures are drawn uniformly from ``rows`` (e.g. every cell
  of a benchmark table) instead of by the space's own sampler; all else is the space's."""

  space: SearchSpace
  rows: Archs

  def __getattr__(self, name):
    if name in ('space', 'rows'):  # not set yet (copying): no recursion
      raise AttributeError(name)
    return getattr(self.space, name)

  def sample(self, key, num):
    return take(self.rows, jax.random.randint(key, (num,), 0, jax.tree.leaves(self.rows)[0].shape[0]))
