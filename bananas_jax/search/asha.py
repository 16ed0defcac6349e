"""ASHA, asynchronous successive halving (Li et al. 2020), on simulated workers.

``num_workers`` simulated workers train one architecture each. Whenever a worker is free
(the earliest simulated finish among them; all are free at time 0), it asks for a job
seeing only the results finished by then: the best architecture of the highest rung that
is in the top ``1 / eta`` of that rung's finished results and was not promoted yet, at the
next rung's fidelity; if there is none, a new random architecture at the lowest fidelity.
Its job then ends after the table's training seconds of that evaluation. Each step is one
job, so the runner's record is in the order jobs start, and the cost axis charges a job's
whole training when it starts: a result is counted as soon as it has been paid for.
"""

import dataclasses
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp

from bananas_jax import spaces
from bananas_jax.history import ranks_among, sample_new
from bananas_jax.predictors.base import check_at_least_one
from bananas_jax.search.multifidelity import Evaluations, MultiFidelitySearch, check_common


class AshaState(NamedTuple):
  evaluations: Evaluations
  finish_s: jax.Array  # float32[capacity]: simulated time each evaluation's result is known
  promoted: jax.Array  # bool[capacity]: already retrained at the next rung
  free_at_s: jax.Array  # float32[num_workers]: when each worker finishes its job


@dataclasses.dataclass(frozen=True)
class Job:
  """ASHA's only step: one job for the first free worker."""

  size: int = 1


@dataclasses.dataclass(frozen=True)
class Asha(MultiFidelitySearch):
  """ASHA with the paper's ``eta = 3``; ``fidelities`` as in successive halving."""

  name: ClassVar[str] = 'asha'
  space: Any
  total_queries: int = 600
  fidelities: tuple = ()
  eta: int = 3
  num_workers: int = 4

  def __post_init__(self):
    check_common(self.name, self.total_queries, self.eta)
    check_at_least_one(self.name, self, 'num_workers')

  def plan(self):
    return [Job()] * self.total_queries

  def init(self, key):
    capacity = self.total_queries
    return AshaState(super().init(key), jnp.full(capacity, jnp.inf, jnp.float32),
                     jnp.zeros(capacity, bool), jnp.zeros(self.num_workers, jnp.float32))

  def next_job(self, state):
    """``(worker, now, promote, entry, epochs)``: the free worker, the simulated time, and
    whether it retrains evaluation ``entry`` at ``epochs`` (else it starts a new one)."""
    history, epochs_of = state.evaluations.history, state.evaluations.epochs
    worker = jnp.argmin(state.free_at_s)
    now = state.free_at_s[worker]
    known = history.mask & (state.finish_s <= now)
    promote, entry, epochs = jnp.array(False), jnp.array(0), jnp.array(self.fidelities[0])
    for rung, fidelity in enumerate(self.fidelities[:-1]):  # higher rungs override lower
      members = known & (epochs_of == fidelity)
      rank = ranks_among(history.val_error, members)
      ready = members & ~state.promoted & (rank < jnp.sum(members) // self.eta)
      best = jnp.argmin(jnp.where(ready, history.val_error, jnp.inf))
      found = jnp.any(ready)
      promote = promote | found
      entry = jnp.where(found, best, entry)
      epochs = jnp.where(found, self.fidelities[rung + 1], epochs)
    return worker, now, promote, entry, epochs

  def ask(self, key, state, step):
    del step
    _, _, promote, entry, epochs = self.next_job(state)
    new = sample_new(key, self.space, 1, state.evaluations.history.keys)
    promoted = spaces.take(state.evaluations.history.archs, entry[None])
    return spaces.where(promote[None], promoted, new), epochs[None]

  def tell(self, state, archs, epochs, evaluation, step):
    worker, now, promote, entry, _ = self.next_job(state)
    count = state.evaluations.history.count
    finish = now + evaluation.train_time[0]
    return AshaState(
        super().tell(state.evaluations, archs, epochs, evaluation, step),
        state.finish_s.at[count].set(finish),
        state.promoted.at[entry].set(state.promoted[entry] | promote),
        state.free_at_s.at[worker].set(finish))
