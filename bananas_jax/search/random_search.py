"""Random search: distinct uniformly random architectures, never one twice in a trial."""

import dataclasses
from typing import Any, ClassVar

from bananas_jax.history import sample_new
from bananas_jax.search.base import HistorySearch, check_schedule


@dataclasses.dataclass(frozen=True)
class RandomSearch(HistorySearch):
  """Queries ``total_queries`` distinct random architectures, ``k`` per step.

  ``num_init`` and ``k`` only set the lockstep schedule; the queried set has the same
  distribution whatever they are.
  """

  name: ClassVar[str] = 'random_search'
  space: Any
  total_queries: int = 150
  num_init: int = 10
  k: int = 10

  def __post_init__(self):
    check_schedule(self)

  def ask(self, key, state, initial):
    return sample_new(key, self.space, self.num_init if initial else self.k, state.keys)