"""The 'graph' encoding of each space, on hand-made cells: ops as labelled nodes, edges as
the cell wires them."""

import jax
import jax.numpy as jnp
import numpy as np

from bananas_jax import spaces
from bananas_jax.spaces import nasbench101 as nb101


def split(graph):
  nodes = graph.shape[-2]
  return graph[..., :nodes].astype(int), graph[..., nodes:].argmax(-1)


def test_nasbench201_ops_are_nodes_wired_by_the_edges():
  space = spaces.make('nasbench201')
  graph = np.asarray(space.encode(jnp.array([[0, 1, 2, 3, 4, 0]]), 'graph'))[0]
  adjacency, labels = split(graph)
  # node 0 input, 1 + e the op of edge e (0->1, 0->2, 1->2, 0->3, 1->3, 2->3), 7 output
  expected = {(0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6), (4, 7), (5, 7), (6, 7)}
  assert {tuple(e) for e in np.argwhere(adjacency)} == expected
  assert labels.tolist() == [5, 0, 1, 2, 3, 4, 0, 6]  # input 5, the ops, output 6
  assert graph.shape == (8, 15) and space.encoding_dim('graph') == 8 * 15


def test_nasbench101_graph_is_the_unpruned_matrix_with_labelled_vertices():
  space = spaces.make('nasbench101')
  matrix = np.zeros((7, 7), np.int8)
  matrix[0, 1] = matrix[1, 6] = matrix[0, 3] = matrix[3, 4] = 1  # vertex 2, 5 dangle
  cell = nb101.Cell(jnp.asarray(matrix)[None], jnp.array([[0, 1, 2, 0, 1]]))
  adjacency, labels = split(np.asarray(space.encode(cell, 'graph'))[0])
  np.testing.assert_array_equal(adjacency, matrix)
  assert labels.tolist() == [3, 0, 1, 2, 0, 1, 4]


def test_darts_pairs_read_the_ops_of_the_node_they_name():
  space = spaces.make('darts')
  arch = np.array(space.sample(jax.random.key(0), 1))
  arch[0, 0, :, 0] = [0, 1, 0, 2, 2, 3, 1, 4]  # normal cell: the input node of each pair
  arch[0, 0, :, 1] = [4, 5, 6, 7, 1, 2, 3, 4]
  adjacency, labels = split(np.asarray(space.encode(jnp.asarray(arch), 'graph'))[0])
  normal = adjacency[:11, :11]
  # pair j is node 2 + j; node n >= 2 is the sum of pairs 2n - 4 and 2n - 3
  feeds = {j: set(np.flatnonzero(normal[:, 2 + j])) for j in range(8)}
  assert feeds == {0: {0}, 1: {1}, 2: {0}, 3: {2, 3}, 4: {2, 3}, 5: {4, 5}, 6: {1},
                   7: {6, 7}}
  assert set(np.flatnonzero(normal[:, 10])) == set(range(2, 10))  # every op feeds the output
  assert not adjacency[:11, 11:].any() and not adjacency[11:, :11].any()
  assert labels[:11].tolist() == [8, 8, 4, 5, 6, 7, 1, 2, 3, 4, 9]
