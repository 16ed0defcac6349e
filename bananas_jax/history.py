"""Fixed-capacity query history and the novelty helpers that keep queries unique."""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from bananas_jax import spaces


class History(NamedTuple):
  """The architectures a trial queried so far, in query order, in fixed-capacity arrays.

  Slots ``count..capacity`` are padding: key -1, validation error +inf.
  """

  archs: Any
  keys: jax.Array  # int32[capacity]
  val_error: jax.Array  # float32[capacity]
  count: jax.Array  # int32 scalar

  @classmethod
  def empty(cls, space, capacity):
    return cls(space.empty(capacity), jnp.full(capacity, -1, jnp.int32),
               jnp.full(capacity, jnp.inf, jnp.float32), jnp.zeros((), jnp.int32))

  @property
  def mask(self):
    return jnp.arange(self.keys.shape[0]) < self.count

  def add(self, space, archs, val_error):
    """Appends a batch at ``count`` (the caller guarantees it fits)."""
    put = lambda buf, new: jax.lax.dynamic_update_slice_in_dim(buf, new.astype(buf.dtype),
                                                               self.count, axis=0)
    return History(jax.tree.map(put, self.archs, archs),
                    put(self.keys, space.canonical_key(archs)),
                    put(self.val_error, val_error),
                    self.count + val_error.shape[0])

  def best(self, num):
    """Indices of the ``num`` lowest validation errors, best first (padding sorts last;
    past the capacity the last index repeats, so callers mask rows ``>= count``)."""
    order = jnp.argsort(self.val_error)
    return order[jnp.minimum(jnp.arange(num), order.shape[0] - 1)]


def ranks_among(values, members):
  """``int32[N]``: each member's rank by ``values`` among ``members`` (0 the lowest); every
  other entry ranks after all members."""
  return jnp.argsort(jnp.argsort(jnp.where(members, values, jnp.inf)))


def novel(keys, valid, seen_keys):
  """``bool[N]``: valid, not in ``seen_keys``, and the first valid occurrence of its key.

  ``seen_keys`` uses -1 for empty slots, which no canonical key equals.
  """
  # By sorting, not by all pairs: a pool of thousands of candidates in each of a hundred
  # vmapped trials would otherwise hold N^2 comparisons per trial.
  sorted_seen = jnp.sort(seen_keys)
  at = jnp.clip(jnp.searchsorted(sorted_seen, keys), 0, sorted_seen.shape[0] - 1)
  in_seen = sorted_seen[at] == keys
  # Equal keys side by side, valid ones first, then in index order: a valid row repeats an
  # earlier one exactly when the row sorted just before it is valid and has its key.
  order = jnp.lexsort((jnp.arange(keys.shape[0]), ~valid, keys))
  sorted_keys, sorted_valid = keys[order], valid[order]
  repeats_previous = jnp.concatenate([jnp.zeros(1, bool), (sorted_keys[1:] == sorted_keys[:-1])
                                      & sorted_valid[:-1]])
  repeat = jnp.zeros_like(valid).at[order].set(repeats_previous)
  return valid & ~in_seen & ~repeat


def compact(mask):
  """Indices that move the True entries of ``mask`` to the front, in order."""
  return jnp.argsort(~mask, stable=True)


def sample_new(key, space, num, seen_keys):
  """``num`` distinct random architectures whose keys are not in ``seen_keys``.

  Draws rounds of ``2 * num`` samples until ``num`` new ones are found, so the result
  is exactly as random as the space's sampler, conditioned on novelty.
  """
  draws = 2 * num

  def not_full(carry):
    return carry[2] < num

  def draw_round(carry):
    archs, keys, count, round_key = carry
    round_key, sample_key = jax.random.split(round_key)
    cand = space.sample(sample_key, draws)
    cand_keys = space.canonical_key(cand)
    fresh = novel(cand_keys, jnp.ones(draws, bool), jnp.concatenate([seen_keys, keys]))
    slot = jnp.where(fresh, count + jnp.cumsum(fresh) - 1, num)  # num = dropped
    scatter = lambda buf, new: buf.at[slot].set(new.astype(buf.dtype), mode='drop')
    archs = jax.tree.map(scatter, archs, cand)
    keys = scatter(keys, cand_keys)
    return archs, keys, jnp.minimum(count + fresh.sum(), num), round_key

  init = (space.empty(num), jnp.full(num, -1, jnp.int32), jnp.zeros((), jnp.int32), key)
  archs, _, _, _ = jax.lax.while_loop(not_full, draw_round, init)
  return archs


def take_valid_or_fill(key, space, archs, valid, num, seen_keys):
  """The first ``num`` valid rows of ``archs``; rows short of ``num`` become new random ones."""
  order = compact(valid)[:num]
  chosen = spaces.take(archs, order)
  ok = valid[order]
  chosen_keys = jnp.where(ok, space.canonical_key(chosen), -1)
  filler = sample_new(key, space, num, jnp.concatenate([seen_keys, chosen_keys]))
  # Filler rows go, in order, into the slots that are not ok.
  filler_rows = spaces.take(filler, jnp.cumsum(~ok) - 1)
  return spaces.where(ok, chosen, filler_rows)
