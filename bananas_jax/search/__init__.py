"""Search algorithms by name; each is built from its own section of the run config."""

import dataclasses

from bananas_jax.search.bananas import Bananas
from bananas_jax.search.base import Algorithm, num_steps
from bananas_jax.search.evolution import RegularizedEvolution
from bananas_jax.search.gp_bo import GPBayesOpt
from bananas_jax.search.local_search import LocalSearch
from bananas_jax.search.random_search import RandomSearch
from bananas_jax.search.reinforce import Reinforce
from bananas_jax.search.runner import TrialResults, best_by_validation, run_trials

ALGORITHMS = {'bananas': Bananas, 'random_search': RandomSearch,
              'evolution': RegularizedEvolution, 'local_search': LocalSearch,
              'gp_bo': GPBayesOpt, 'reinforce': Reinforce}


def make(name: str, space, total_queries: int, settings=None) -> Algorithm:
  """Builds an algorithm from a dict of its settings (its config section).

  ``name`` is the algorithm, or a variant's label whose settings name the algorithm in
  an ``algorithm`` field (e.g. ``bananas_adjacency: {algorithm: bananas, encoding:
  adjacency}``), so ablations run side by side under their own names.
  """
  settings = dict(settings or {})
  algorithm = settings.pop('algorithm', name)
  if algorithm not in ALGORITHMS:
    raise ValueError(f'unknown algorithm {algorithm!r}; accepted: {", ".join(ALGORITHMS)}')
  cls = ALGORITHMS[algorithm]
  fields = {f.name for f in dataclasses.fields(cls) if f.init} - {'space', 'total_queries'}
  unknown = sorted(set(settings) - fields)
  if unknown:
    raise ValueError(f'unknown setting {unknown[0]!r} for {name}; accepted: '
                     f'{", ".join(sorted(fields))}')
  return cls(space=space, total_queries=total_queries, **settings)
