"""Search spaces by name: ``spaces.make('nasbench201')``, ``spaces.make('nasbench101',
num_vertices=6)``, a cell of your own ``spaces.make('cell', num_nodes=5, ops=(...))``,
named decisions ``spaces.CategoricalSpace.from_decisions({...})``."""

from bananas_jax.spaces.base import (SearchSpace, UniformOverRows, concat, take, until_valid,
                                     where)
from bananas_jax.spaces.categorical import CategoricalSpace
from bananas_jax.spaces.cell import CellSpace
from bananas_jax.spaces.darts import DartsSpace
from bananas_jax.spaces.nasbench101 import NASBench101Space
from bananas_jax.spaces.nasbench201 import NASBench201Space

SPACES = {'nasbench201': NASBench201Space, 'nasbench101': NASBench101Space,
          'darts': DartsSpace, 'cell': CellSpace, 'categorical': CategoricalSpace}


def make(name: str, **settings) -> SearchSpace:
  """The space ``name`` (spaces are small frozen dataclasses: equal settings, equal spaces,
  one compilation)."""
  if name not in SPACES:
    raise ValueError(f'unknown search space {name!r}; accepted: {", ".join(SPACES)}')
  return SPACES[name](**settings)
