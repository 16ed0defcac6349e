"""Local search, the strong simple baseline of the BANANAS paper.

Start at the best of ``num_init`` random architectures. Query the current architecture's
unseen valid neighbours (single edits) in random order and move to the first that improves on
it. At a local minimum (every neighbour seen, none better) restart: query ``num_init``
new random architectures and continue from the best of them. One query per step.
"""

import dataclasses
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp

from bananas_jax import spaces
from bananas_jax.history import History, novel, sample_new
from bananas_jax.search.base import check_schedule


class LocalSearchState(NamedTuple):
  history: History
  current: Any  # the architecture being improved (unbatched)
  current_val: jax.Array
  order_key: jax.Array  # orders the current architecture's neighbours
  restart_left: jax.Array  # random queries still to make in the current restart
  restart_best: Any
  restart_best_val: jax.Array


@dataclasses.dataclass(frozen=True)
class LocalSearch:
  """Local search with restarts; ``k`` is 1 by construction."""

  name: ClassVar[str] = 'local_search'
  space: Any
  total_queries: int = 150
  num_init: int = 10
  k: int = dataclasses.field(default=1, init=False)

  def __post_init__(self):
    check_schedule(self)

  def init(self, key):
    one = spaces.take(self.space.empty(1), 0)
    inf = jnp.array(jnp.inf, jnp.float32)
    return LocalSearchState(History.empty(self.space, self.total_queries), one, inf, key,
                            jnp.zeros((), jnp.int32), one, inf)

  def _next_neighbour(self, state):
    """The first unseen neighbour in this architecture's random order, and whether any is."""
    nbrs = self.space.neighbours(state.current)
    num = jax.tree.leaves(nbrs)[0].shape[0]
    nbrs = spaces.take(nbrs, jax.random.permutation(state.order_key, num))
    unseen = novel(self.space.canonical_key(nbrs), self.space.is_valid(nbrs),
                   state.history.keys)
    return spaces.take(nbrs, jnp.argmax(unseen)[None]), jnp.any(unseen)

  def ask(self, key, state, initial):
    if initial:
      return sample_new(key, self.space, self.num_init, state.history.keys)
    neighbour, found = self._next_neighbour(state)
    restarting = (state.restart_left > 0) | ~found
    random = sample_new(key, self.space, 1, state.history.keys)
    return spaces.where(jnp.broadcast_to(restarting, (1,)), random, neighbour)

  def tell(self, state, archs, val_error):
    history = state.history.add(self.space, archs, val_error)
    new_order = jax.random.fold_in(state.order_key, history.count)
    if val_error.shape[0] > 1:  # the initial batch (k is 1): start from its best
      best = jnp.argmin(val_error)
      return state._replace(history=history, current=spaces.take(archs, best),
                            current_val=val_error[best], order_key=new_order)
    return self._tell_one(state, history, spaces.take(archs, 0), val_error[0], new_order)

  def _tell_one(self, state, history, arch, val, new_order):
    _, found = self._next_neighbour(state)
    restarting = (state.restart_left > 0) | ~found
    starting = state.restart_left == 0
    best_val = jnp.where(starting, val, jnp.minimum(state.restart_best_val, val))
    better = starting | (val < state.restart_best_val)
    best = jax.tree.map(lambda new, old: jnp.where(better, new, old), arch, state.restart_best)
    left = jnp.where(starting, self.num_init - 1, state.restart_left - 1)
    restart_done = restarting & (left == 0)
    improved = ~restarting & (val < state.current_val)
    move = restart_done | improved
    target = jax.tree.map(lambda r, a: jnp.where(restart_done, r, a), best, arch)
    target_val = jnp.where(restart_done, best_val, val)
    return LocalSearchState(
        history=history,
        current=jax.tree.map(lambda t, c: jnp.where(move, t, c), target, state.current),
        current_val=jnp.where(move, target_val, state.current_val),
        order_key=jnp.where(move, new_order, state.order_key),
        restart_left=jnp.where(restarting, left, 0),
        restart_best=best, restart_best_val=best_val)
