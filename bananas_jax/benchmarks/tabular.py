"""A tabular benchmark on device: one row per architecture, queried by array lookup."""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
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
  (noisy mode draws one of them); ``row_of_key`` maps a space's canonical key to a row.
  """

  val_error: jax.Array
  val_error_seeds: jax.Array
  num_seeds: jax.Array
  test_error: jax.Array
  train_time: jax.Array
  row_of_key: jax.Array
  space: Any = struct.field(pytree_node=False)
  name: str = struct.field(pytree_node=False)
  dataset: str = struct.field(pytree_node=False)
  fidelity: int = struct.field(pytree_node=False)

  @property
  def has_seeds(self) -> bool:
    return self.val_error_seeds.shape[1] > 0

  def rows(self, archs) -> jax.Array:
    return self.row_of_key[self.space.canonical_key(archs)]

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
