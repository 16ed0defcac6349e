"""Regularized evolution (Real et al. 2019) with the settings of the BANANAS comparison."""

import dataclasses
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from bananas_jax import spaces
from bananas_jax.history import novel, take_valid_or_fill
from bananas_jax.predictors.base import check_at_least_one
from bananas_jax.search.base import HistorySearch, check_schedule


@dataclasses.dataclass(frozen=True)
class RegularizedEvolution(HistorySearch):
  """Tournament selection, mutation, and ageing: the oldest member leaves the population.

  Each child joins the population and the oldest member leaves, so the population is
  always the ``population_size`` most recent queries and needs no state of its own.
  A child is the first of ``num_mutations`` mutations of its parent that is new to the
  trial (a new random architecture if none is).
  """

  name: ClassVar[str] = 'evolution'
  space: Any
  total_queries: int = 150
  num_init: int = 10
  k: int = 1  # children per step, each from its own tournament
  population_size: int = 30
  tournament_size: int = 10
  mutation_rate: float = 1.0
  num_mutations: int = 100

  def __post_init__(self):
    check_schedule(self)
    check_at_least_one(self.name, self, 'population_size', 'tournament_size', 'num_mutations')

  def ask(self, key, state, initial):
    if initial:
      return self.initial_archs(key, state)
    pick_key, mutate_key, fill_key = jax.random.split(key, 3)
    size = jnp.minimum(state.count, self.population_size)
    ages = jax.random.randint(pick_key, (self.k, self.tournament_size), 0, size)
    entrants = state.count - 1 - ages  # drawn with replacement from the population
    winners = jnp.take_along_axis(
        entrants, jnp.argmin(state.val_error[entrants], axis=1)[:, None], axis=1)[:, 0]
    parents = jax.tree.map(lambda a: jnp.repeat(a, self.num_mutations, axis=0),
                           spaces.take(state.archs, winners))
    children = self.space.mutate(mutate_key, parents, self.mutation_rate)
    fresh = novel(self.space.canonical_key(children), jnp.ones(self.k * self.num_mutations, bool),
                  state.keys).reshape(self.k, self.num_mutations)
    first = jnp.arange(self.k) * self.num_mutations + jnp.argmax(fresh, axis=1)
    return take_valid_or_fill(fill_key, self.space, spaces.take(children, first),
                              jnp.any(fresh, axis=1), self.k, state.keys)
