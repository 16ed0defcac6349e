"""Search algorithms by name; each is built from its own section of the run config."""

import dataclasses

from bananas_jax.search.bananas import Bananas
from bananas_jax.search.base import Algorithm, num_steps
from bananas_jax.search.random_search import RandomSearch
from bananas_jax.search.runner import TrialResults, best_by_validation, run_trials

ALGORITHMS = {'bananas': Bananas, 'random_search': RandomSearch}


def make(name: str, space, total_queries: int, settings=None) -> Algorithm:
  """Builds algorithm ``name`` from a dict of its settings (its config section)."""
  if name not in ALGORITHMS:
    raise ValueError(f'unknown algorithm {name!r}; accepted: {", ".join(ALGORITHMS)}')
  cls = ALGORITHMS[name]
  settings = dict(settings or {})
  fields = {f.name for f in dataclasses.fields(cls)} - {'space', 'total_queries'}
  unknown = sorted(set(settings) - fields)
  if unknown:
    raise ValueError(f'unknown setting {unknown[0]!r} for {name}; accepted: '
                     f'{", ".join(sorted(fields))}')
  return cls(space=space, total_queries=total_queries, **settings)
