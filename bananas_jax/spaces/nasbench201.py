"""The NAS-Bench-201 cell space: a :class:`~bananas_jax.spaces.cell.CellSpace` of 4 nodes.

A cell has 4 nodes and 6 edges, each edge one of 5 ops. An architecture is ``int32[6]``:
one op code per edge, edges in the official string order (0->1, 0->2, 1->2, 0->3, 1->3,
2->3), op codes in the original BANANAS order :data:`OPS`, which fixes every encoding
index (the path encoding's 155 = 5 + 25 + 125 sequences of 1-3 ops).
"""

import dataclasses

from bananas_jax.spaces.cell import CellSpace, cell_edges

OPS = ('avg_pool_3x3', 'nor_conv_1x1', 'nor_conv_3x3', 'none', 'skip_connect')
NUM_OPS = len(OPS)
EDGES = cell_edges(4)
NUM_EDGES = len(EDGES)
NUM_ARCHS = NUM_OPS**NUM_EDGES  # 15,625
PATH_DIM = 5 + 25 + 125  # 155


@dataclasses.dataclass(frozen=True)
class NASBench201Space(CellSpace):
  """NAS-Bench-201 with the original BANANAS semantics (docs/algorithm.md)."""

  num_nodes: int = 4
  ops: tuple[str, ...] = OPS
  name: str = 'nasbench201'
  label: str = 'NAS-Bench-201'
