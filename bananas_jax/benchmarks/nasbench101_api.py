"""The official ``nasbench.api`` interface, answered from this project's NAS-Bench-101 table.

Code written against the official API runs with one changed import and no TensorFlow:

  from bananas_jax.benchmarks import nasbench101_api as api  # was: from nasbench import api
  nasbench = api.NASBench('/data/nasbench_only108.tfrecord')
  spec = api.ModelSpec(matrix=[[0, 1, 1], [0, 0, 1], [0, 0, 0]],
                       ops=[api.INPUT, api.CONV3X3, api.OUTPUT])
  if nasbench.is_valid(spec):
    data = nasbench.query(spec)  # one random training repeat, as the official query
    print(data['validation_accuracy'], nasbench.get_budget_counters())

It reads the same table as the searches (:func:`nasbench101.load_table`: the official file,
converted once into a cache beside it), host side, with the official units (accuracies as
fractions, seconds). The table keeps the final metrics of each repeat at one epoch budget;
the file's train accuracy and halfway metrics are not kept, so ``query`` returns the
official keys it holds and ``stop_halfway=True`` is refused.
"""

import numpy as np

from bananas_jax.benchmarks import nasbench101
from bananas_jax.spaces import nasbench101 as space_lib

INPUT, OUTPUT = space_lib.INPUT, space_lib.OUTPUT
CONV3X3, CONV1X1, MAXPOOL3X3 = space_lib.OPS
NUM_VERTICES, MAX_EDGES = 7, 9


class OutOfDomainError(Exception):
  """A query outside the space or the table (the official API's exception)."""


class ModelSpec:
  """A cell as the official API has it: ``original_matrix``/``original_ops`` as given,
  ``matrix``/``ops`` pruned of vertices off every input-output path; ``valid_spec`` is
  False when the input does not reach the output (then ``matrix`` and ``ops`` are None)."""

  def __init__(self, matrix, ops, data_format='channels_last'):
    matrix = np.array(matrix, np.int64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
      raise ValueError(f'matrix must be square, got shape {matrix.shape}')
    if len(ops) != matrix.shape[0]:
      raise ValueError(f'ops name {len(ops)} vertices, the matrix has {matrix.shape[0]}')
    self.original_matrix, self.original_ops = matrix.copy(), list(ops)
    self.data_format = data_format
    pruned, pruned_ops = space_lib.prune_spec(matrix, list(ops))
    self.valid_spec = len(pruned_ops) >= 2
    self.matrix = pruned.astype(np.int64) if self.valid_spec else None
    self.ops = pruned_ops if self.valid_spec else None

  def hash_spec(self, canonical_ops=None):
    """The official module hash of the pruned cell."""
    del canonical_ops  # the hash labels ops by the official op list, which is ours
    return space_lib.module_hash(self.matrix, self.ops)


class NASBench:
  """The official ``NASBench`` object over ``dataset_file`` (``nasbench_only108.tfrecord``,
  ``nasbench_full.tfrecord`` at the budget ``epochs``, or a cache ``.npz``)."""

  def __init__(self, dataset_file, seed=None, epochs=108):
    self.table = nasbench101.load_table(dataset_file, epochs=epochs)
    self.valid_epochs = {self.table.epochs}
    self._rng = np.random.default_rng(seed)
    self.reset_budget_counters()

  def _check_spec(self, spec):
    """Raises OutOfDomainError, with the reason, for a cell outside the space."""
    if not spec.valid_spec:
      raise OutOfDomainError('invalid spec: the input does not reach the output')
    num_vertices, num_edges = len(spec.ops), int(np.sum(spec.matrix))
    if num_vertices > NUM_VERTICES:
      raise OutOfDomainError(f'too many vertices: {num_vertices} > {NUM_VERTICES}')
    if num_edges > MAX_EDGES:
      raise OutOfDomainError(f'too many edges: {num_edges} > {MAX_EDGES}')
    if spec.ops[0] != INPUT or spec.ops[-1] != OUTPUT:
      raise OutOfDomainError(f'the first op must be {INPUT!r} and the last {OUTPUT!r}')
    unknown = [op for op in spec.ops[1:-1] if op not in space_lib.OPS]
    if unknown:
      raise OutOfDomainError(f'unknown op {unknown[0]!r}; accepted: {", ".join(space_lib.OPS)}')
    if np.tril(spec.matrix).any():
      raise OutOfDomainError('the matrix must be strictly upper-triangular')

  def is_valid(self, model_spec):
    """Whether the cell is in the space (the official rules; not whether the table has it)."""
    try:
      self._check_spec(model_spec)
    except OutOfDomainError:
      return False
    return True

  def query(self, model_spec, epochs=108, stop_halfway=False):
    """One random training repeat of the cell: the official keys the table holds, with
    accuracies as fractions. Adds the repeat's training time and ``epochs`` to the budget
    counters."""
    if epochs not in self.valid_epochs:
      raise OutOfDomainError(f'invalid number of epochs {epochs}; this table holds '
                             f'{self.table.epochs}')
    if stop_halfway:
      raise OutOfDomainError('halfway metrics are not kept in this table (stop_halfway=False)')
    self._check_spec(model_spec)
    module_hash = model_spec.hash_spec()
    try:
      fixed, computed = self.get_metrics_from_hash(module_hash)
    except KeyError as e:
      raise OutOfDomainError(str(e)) from None
    repeat = computed[epochs][self._rng.integers(len(computed[epochs]))]
    self.total_time_spent += repeat['final_training_time']
    self.total_epochs_spent += epochs
    return {**fixed, 'training_time': repeat['final_training_time'],
            'validation_accuracy': repeat['final_validation_accuracy'],
            'test_accuracy': repeat['final_test_accuracy']}

  def get_metrics_from_hash(self, module_hash):
    """``(fixed, computed)`` as the official API: the cell's adjacency, ops and parameters,
    and ``computed[epochs]``, one dict of final metrics per training repeat."""
    r = self.table.row(module_hash)
    matrix, ops = space_lib.to_spec(space_lib.Cell(self.table.matrix[r], self.table.ops[r]))
    fixed = {'module_adjacency': matrix.astype(np.int64), 'module_operations': ops,
             'trainable_parameters': int(self.table.params[r]), 'module_hash': module_hash}
    held = ~np.isnan(self.table.val_accuracy[r])
    repeats = [{'final_training_time': float(time),
                'final_validation_accuracy': float(val) / 100.0,
                'final_test_accuracy': float(test) / 100.0}
               for val, test, time in zip(self.table.val_accuracy[r][held],
                                          self.table.test_accuracy[r][held],
                                          self.table.train_time[r][held])]
    return fixed, {self.table.epochs: repeats}

  def hash_iterator(self):
    """Every cell's module hash."""
    return (h.decode() for h in self.table.hashes)

  def get_budget_counters(self):
    """``(training seconds, epochs)`` spent by the queries since the last reset."""
    return self.total_time_spent, self.total_epochs_spent

  def reset_budget_counters(self):
    self.total_time_spent, self.total_epochs_spent = 0.0, 0
