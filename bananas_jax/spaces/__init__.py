"""Search spaces by name: ``spaces.get('nasbench201')``."""

from bananas_jax.spaces.base import (SearchSpace, UniformOverRows, concat, take, until_valid,
                                     where)
from bananas_jax.spaces.darts import DartsSpace
from bananas_jax.spaces.nasbench101 import NASBench101Space
from bananas_jax.spaces.nasbench201 import NASBench201Space

SPACES = {'nasbench201': NASBench201Space(), 'nasbench101': NASBench101Space(),
          'darts': DartsSpace()}


def get(name: str) -> SearchSpace:
  if name not in SPACES:
    raise ValueError(f'unknown search space {name!r}; accepted: {", ".join(SPACES)}')
  return SPACES[name]
