"""TPE, the tree-structured Parzen estimator (Bergstra et al. 2011), over the categorical
decisions that build a cell (``space.choices``: NAS-Bench-201 an op per edge; NAS-Bench-101
the edge bits and the inner ops), with hyperopt's defaults.

After ``num_init`` random queries (hyperopt's ``n_startup_jobs``), the history is split by
validation error: the best ``min(ceil(gamma * sqrt(n)), full_weight_count)`` are the good
set, the rest the bad one. Each decision gets two categorical densities, l from the good
set and g from the bad, weighted counts plus ``prior_weight`` pseudo-counts per option,
where within a set the older queries beyond the newest ``full_weight_count`` weigh less
(hyperopt's linear forgetting: a ramp from 1/N up to 1). As in hyperopt, every decision is
chosen on its own: ``num_candidates`` draws from l, the one with the largest l / g wins.
Each of the ``k`` proposals uses draws of its own; a proposal that is invalid (NAS-Bench-101)
or already queried is replaced by a new random cell, as every algorithm here queries new
architectures only.
"""

import dataclasses
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from bananas_jax.history import novel, ranks_among, take_valid_or_fill
from bananas_jax.predictors.base import check_at_least_one
from bananas_jax.search.base import HistorySearch, check_schedule


def good_set_size(count, gamma, full_weight_count):
  """How many of ``count`` queries form the good set: hyperopt's
  ``min(ceil(gamma * sqrt(count)), full_weight_count)``."""
  return jnp.minimum(jnp.ceil(gamma * jnp.sqrt(count)).astype(jnp.int32), full_weight_count)


def forgetting_weights(members, full_weight_count):
  """``float32[N]`` weights of a set's members (``members``: ``bool[N]`` in query order):
  1 for the newest ``full_weight_count``, a linear ramp from 1/n to 1 over the older ones
  (n the set's size), 0 outside the set."""
  n = jnp.sum(members)
  position = jnp.cumsum(members) - 1  # 0 = the set's oldest member
  ramp_length = n - full_weight_count
  ramp = 1 / n + (1 - 1 / n) * position / jnp.maximum(ramp_length - 1, 1)
  return jnp.where(members, jnp.where(position < ramp_length, ramp, 1.0), 0.0)


def densities(choices, options, members, prior_weight, full_weight_count):
  """``float32[D, max options]``: per decision, the categorical density of a set's choices
  (``choices``: ``int32[N, D]``; ``options``, a tuple, the options of each decision: those
  past ``options[d]`` get probability 0)."""
  weight = forgetting_weights(members, full_weight_count)
  possible = np.arange(max(options)) < np.asarray(options)[:, None]
  counts = jnp.einsum('n,ndo->do', weight,
                      jax.nn.one_hot(choices, max(options), dtype=jnp.float32))
  pseudo = jnp.where(possible, counts + prior_weight, 0.0)
  return pseudo / pseudo.sum(axis=1, keepdims=True)


@dataclasses.dataclass(frozen=True)
class TreeParzenEstimator(HistorySearch):
  """TPE with hyperopt's defaults; every field is a config field."""

  name: ClassVar[str] = 'tpe'
  space: Any
  total_queries: int = 150
  num_init: int = 20  # hyperopt's n_startup_jobs: random queries before the model
  k: int = 1
  gamma: float = 0.25
  num_candidates: int = 24  # hyperopt's n_EI_candidates: draws from l per decision
  prior_weight: float = 1.0
  full_weight_count: int = 25  # hyperopt's LF: newest queries at full weight; good-set cap

  def __post_init__(self):
    check_schedule(self)
    if not 0 < self.gamma <= 1:
      raise ValueError(f'tpe: gamma must be in (0, 1], got {self.gamma}')
    check_at_least_one(self.name, self, 'num_candidates', 'full_weight_count')
    if self.prior_weight <= 0:
      raise ValueError(f'tpe: prior_weight must be positive, got {self.prior_weight}')

  def model(self, state):
    """``(l, g)``: the good and bad sets' densities, each ``float32[D, max options]``."""
    choices = self.space.to_choices(state.archs)
    rank = ranks_among(state.val_error, state.mask)
    good = rank < good_set_size(state.count, self.gamma, self.full_weight_count)
    fit = lambda members: densities(choices, self.space.choices, members, self.prior_weight,
                                    self.full_weight_count)
    return fit(good & state.mask), fit(~good & state.mask)

  def ask(self, key, state, initial):
    if initial:
      return self.initial_archs(key, state)
    draw_key, fill_key = jax.random.split(key)
    log_l, log_g = (jnp.log(d) for d in self.model(state))
    decisions = jnp.arange(log_l.shape[0])

    def propose(key):  # each decision on its own: the draw from l with the best l / g
      draws = jax.random.categorical(key, log_l, shape=(self.num_candidates, log_l.shape[0]))
      ratio = log_l[decisions, draws] - log_g[decisions, draws]
      return draws[jnp.argmax(ratio, axis=0), decisions]

    archs = self.space.from_choices(jax.vmap(propose)(jax.random.split(draw_key, self.k)))
    fresh = novel(self.space.canonical_key(archs), self.space.is_valid(archs), state.keys)
    return take_valid_or_fill(fill_key, self.space, archs, fresh, self.k, state.keys)
