"""A tabular benchmark on device: one row per architecture, queried by array lookup."""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct


class Evaluation(NamedTuple):
  """What one query returns, per architecture (percent and seconds)."""

  val_error: jax.Array
  test_error: jax.Array
  train_time: jax.Array
  row: jax.Array  # the benchmark's row (for NAS-Bench-201: the official index)


@struct.dataclass
class TabularBenchmark:
  """Benchmark arrays on device; ``query`` is pure and jit-able.

  ``val_error_seeds[r, :num_seeds[r]]`` hold the per-seed validation errors of row ``r``
  (noisy mode draws one of them). A query finds rows by binary search of the space's
  canonical keys: ``sorted_keys`` ascending, ``key_rows`` the row of each.
  """

  val_error: jax.Array
  val_error_seeds: jax.Array
  num_seeds: jax.Array
  test_error: jax.Array
  train_time: jax.Array
  archs: Any  # every row's architecture, a batch of the space
  sorted_keys: jax.Array
  key_rows: jax.Array
  space: Any = struct.field(pytree_node=False)
  name: str = struct.field(pytree_node=False)
  dataset: str = struct.field(pytree_node=False)
  fidelity: int = struct.field(pytree_node=False)

  @property
  def has_seeds(self) -> bool:
    return self.val_error_seeds.shape[1] > 0

  @classmethod
  def from_rows(cls, space, archs, keys, name, dataset, fidelity, **columns):
    """Puts NumPy columns on device, with the index of the rows' canonical ``keys``."""
    order = np.argsort(keys, kind='stable')
    if np.any(keys[order][1:] == keys[order][:-1]):
      twice = keys[order][1:][keys[order][1:] == keys[order][:-1]][0]
      raise ValueError(f'{name}: two rows share the canonical key {twice}')
    return cls(**{k: jnp.asarray(v) for k, v in columns.items()},
               archs=jax.tree.map(jnp.asarray, archs), sorted_keys=jnp.asarray(keys[order]),
               key_rows=jnp.asarray(order.astype(np.int32)), space=space, name=name,
               dataset=dataset, fidelity=fidelity)

  def rows(self, archs) -> jax.Array:
    """The row of each architecture (a valid one: the tables hold every valid cell)."""
    index = jnp.searchsorted(self.sorted_keys, self.space.canonical_key(archs))
    return self.key_rows[jnp.minimum(index, self.key_rows.shape[0] - 1)]

  def query(self, key: jax.Array, archs, noisy: bool = False) -> Evaluation:
    """Validation error (mean over seeds, or one random seed if ``noisy``), test error, time."""
    rows = self.rows(archs)
    val = self.val_error[rows]
    if noisy:
      draw = jax.random.uniform(key, rows.shape)
      seed = jnp.floor(draw * self.num_seeds[rows]).astype(jnp.int32)
      val = self.val_error_seeds[rows, seed]
    return Evaluation(val, self.test_error[rows], self.train_time[rows], rows)

  @property
  def best_test_error(self) -> float:
    """The lowest test error in the table: the optimum a search can reach, for scale."""
    return float(jnp.min(self.test_error))


def canonical_keys(space, archs, chunk=16384) -> np.ndarray:
  """The canonical keys of many architectures, computed in chunks of bounded memory."""
  key_fn = jax.jit(space.canonical_key)
  num = jax.tree.leaves(archs)[0].shape[0]
  parts = []
  for start in range(0, num, chunk):
    part = jax.tree.map(lambda leaf: leaf[start:start + chunk], archs)
    pad = chunk - jax.tree.leaves(part)[0].shape[0]  # one shape, one compilation
    part = jax.tree.map(lambda leaf: np.pad(leaf, [(0, pad)] + [(0, 0)] * (leaf.ndim - 1)),
                        part)
    parts.append(np.asarray(key_fn(part))[:chunk - pad])
  return np.concatenate(parts) if parts else np.zeros(0, np.int32)


@struct.dataclass
class MultiFidelityBenchmark:
  """One table at several training budgets (epochs), each architecture queried at its own.

  Row ``r`` is the same architecture at every fidelity; ``full`` is the highest fidelity's
  :class:`TabularBenchmark` (the one single-fidelity searches query, and the only one whose
  results may be reported as a search's found architecture). A lower fidelity is a training
  of its own schedule, not a prefix of the full one, so its ``train_time`` is what that
  training costs and moving an architecture up retrains it at the higher fidelity's cost.
  """

  full: TabularBenchmark
  val_error: jax.Array  # [fidelities, rows]
  test_error: jax.Array
  train_time: jax.Array
  fidelities: tuple = struct.field(pytree_node=False)  # epochs, ascending

  @classmethod
  def stack(cls, levels):
    """From single-fidelity benchmarks of one table (any order); refuses other tables."""
    levels = sorted(levels, key=lambda b: b.fidelity)
    full = levels[-1]
    for level in levels[:-1]:
      if level.sorted_keys.shape != full.sorted_keys.shape or not (
          bool(jnp.all(level.sorted_keys == full.sorted_keys))
          and bool(jnp.all(level.key_rows == full.key_rows))):
        raise ValueError(f'{full.name}: the {level.fidelity}-epoch table holds other '
                         f'architectures than the {full.fidelity}-epoch one')
    stack = lambda field: jnp.stack([getattr(b, field) for b in levels])
    return cls(full, stack('val_error'), stack('test_error'), stack('train_time'),
               tuple(b.fidelity for b in levels))

  def query(self, archs, epochs) -> Evaluation:
    """Validation error, test error and training seconds of each architecture at its own
    ``epochs`` (``int32[N]``, each one of ``fidelities``)."""
    rows = self.full.rows(archs)
    level = jnp.searchsorted(jnp.asarray(self.fidelities), epochs)
    return Evaluation(self.val_error[level, rows], self.test_error[level, rows],
                      self.train_time[level, rows], rows)
