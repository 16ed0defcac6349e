"""NAS-Bench-101 from the official file, read without TensorFlow, cached in a compact form.

The official ``nasbench_only108.tfrecord`` (or ``nasbench_full.tfrecord`` at a chosen epoch
budget) is read once: TFRecord framing with CRC checks, one JSON row per (cell, repeat),
the ``ModelMetrics`` protobuf decoded by hand. The repeats of each cell are gathered and the
result written atomically to ``<file>.<epochs>ep.npz`` beside it, which later runs load in
well under two seconds.

  table = load_table('/data/nasbench_only108.tfrecord')
  table.query_hash('00005c142e6f48ac74fdcf73e3439874')  # {'val_accuracy': ..., ...}
  table.benchmark()  # the TabularBenchmark that searches query; load() gives it directly
"""

import base64
import dataclasses
import json
import os
import pathlib
import zipfile

import numpy as np

from bananas_jax.benchmarks.tabular import TabularBenchmark, canonical_keys
from bananas_jax.io import protobuf, records, tfrecord
from bananas_jax.progress import Progress
from bananas_jax.spaces import nasbench101 as space_lib

FILE_NAME = 'nasbench_only108.tfrecord'
PATH_ENV = 'NASBENCH101_PATH'  # the file, if no data_path is given
DATA_DIR_ENV = 'BANANAS_JAX_DATA'  # a directory holding it, else DEFAULT_DATA_DIR
DEFAULT_DATA_DIR = pathlib.Path.home() / 'bananas_jax_data'
FIDELITIES = (4, 12, 36, 108)  # the training budgets (epochs) of the tables, ascending
_CACHE_VERSION = 1
_TABLE_FIELDS = ('hashes', 'matrix', 'ops', 'keys', 'val_accuracy', 'test_accuracy',
                 'train_time', 'params')


@dataclasses.dataclass(frozen=True)
class NASBench101Table:
  """Every cell of the file, rows sorted by official hash; accuracies in percent, per repeat
  (NaN where a cell has fewer repeats). Its space has as many vertices as the file's largest
  pruned cell: 7 for the official files, fewer for a synthetic table of a smaller space."""

  hashes: np.ndarray  # bytes [N], the 32-digit module hashes, ascending
  matrix: np.ndarray  # int8 [N, V, V], the pruned cell padded to V vertices
  ops: np.ndarray  # int8 [N, V - 2]
  keys: np.ndarray  # int32 [N], the space's canonical keys
  val_accuracy: np.ndarray  # float32 [N, R], final validation accuracy of each repeat
  test_accuracy: np.ndarray  # float32 [N, R]
  train_time: np.ndarray  # float32 [N, R], seconds
  params: np.ndarray  # int64 [N], trainable parameters
  epochs: int
  num_vertices: int

  def __len__(self):
    return len(self.hashes)

  @property
  def space(self):
    return space_lib.NASBench101Space(num_vertices=self.num_vertices)

  def row(self, module_hash: str) -> int:
    index = int(np.searchsorted(self.hashes, module_hash.encode()))
    if index == len(self) or self.hashes[index] != module_hash.encode():
      raise KeyError(f'module hash {module_hash!r} is not in this NAS-Bench-101 table')
    return index

  def query_hash(self, module_hash: str) -> dict:
    """The cell's mean final validation and test accuracy (%), parameters, training time."""
    r = self.row(module_hash)
    return {'module_hash': module_hash, 'val_accuracy': float(np.nanmean(self.val_accuracy[r])),
            'test_accuracy': float(np.nanmean(self.test_accuracy[r])),
            'params': int(self.params[r]), 'train_time': float(np.nanmean(self.train_time[r])),
            'val_accuracy_repeats': self.val_accuracy[r][~np.isnan(self.val_accuracy[r])].tolist(),
            'test_accuracy_repeats':
                self.test_accuracy[r][~np.isnan(self.test_accuracy[r])].tolist(),
            'epochs': self.epochs}

  def benchmark(self) -> TabularBenchmark:
    """The table as a benchmark: errors are 100 - mean accuracy, one repeat when noisy."""
    num_seeds = (~np.isnan(self.val_accuracy)).sum(axis=1).astype(np.int32)
    mean = lambda a: np.nanmean(a, axis=1).astype(np.float32)
    archs = space_lib.Cell(self.matrix, self.ops.astype(np.int32))
    return TabularBenchmark.from_rows(
        self.space, archs, self.keys, 'nasbench101', 'cifar10', self.epochs,
        val_error=100.0 - mean(self.val_accuracy),
        val_error_seeds=np.nan_to_num(100.0 - self.val_accuracy, nan=np.inf),
        num_seeds=num_seeds, test_error=100.0 - mean(self.test_accuracy),
        train_time=mean(self.train_time))


def find_file(path=None) -> pathlib.Path:
  """The official file: ``path``, else $NASBENCH101_PATH, else the default data directory."""
  candidates = [('data_path', path), (PATH_ENV, os.environ.get(PATH_ENV)),
                ('data directory', pathlib.Path(os.environ.get(DATA_DIR_ENV, DEFAULT_DATA_DIR))
                 / FILE_NAME)]
  for _, candidate in candidates:
    if candidate and pathlib.Path(candidate).is_file():
      return pathlib.Path(candidate)
  looked = '; '.join(f'{where}: {c}' for where, c in candidates if c)
  raise FileNotFoundError(
      f'NAS-Bench-101 needs {FILE_NAME} (about 500 MB, from the official NAS-Bench-101 '
      f'release; nasbench_full.tfrecord works too) and it was not found. Looked at {looked}. '
      f'Pass --config.data_path=PATH, set ${PATH_ENV}, or put the file in '
      f'${DATA_DIR_ENV} (default {DEFAULT_DATA_DIR}).')


def cache_path(path, epochs=108) -> pathlib.Path:
  path = pathlib.Path(path)
  return path.with_name(f'{path.stem}.{epochs}ep.npz')


def load_table(path=None, epochs=108, progress=True) -> NASBench101Table:
  """The table of the official file at ``path`` (or of a cache ``.npz``).

  The first call converts the file and writes the cache beside it; a cache made from a
  file of another size is rebuilt. ``epochs`` picks the budget of ``nasbench_full``.
  """
  if epochs not in FIDELITIES:
    raise ValueError(f'unknown NAS-Bench-101 epoch budget {epochs!r}; accepted: '
                     f'{", ".join(map(str, FIDELITIES))}')
  if path is not None and str(path).endswith('.npz'):
    return read_cache(path)
  path = find_file(path)
  cache = cache_path(path, epochs)
  if cache.exists():
    table, source_size = read_cache(cache, with_source_size=True)
    if source_size == path.stat().st_size and table.epochs == epochs:
      return table
  table = read_official(path, epochs, progress)
  write_cache(table, cache, source_size=path.stat().st_size)
  return table


def load(dataset='cifar10', fidelity=108, path=None) -> TabularBenchmark:
  """The search benchmark (NAS-Bench-101 trains on CIFAR-10 only; fidelity = epochs)."""
  if dataset != 'cifar10':
    raise ValueError(f'unknown dataset {dataset!r} for nasbench101; accepted: cifar10')
  return load_table(path, epochs=fidelity).benchmark()


# ---- the official file ----------------------------------------------------------------

def read_official(path, epochs=108, progress=True) -> NASBench101Table:
  """Reads and aggregates every row of an official NAS-Bench-101 file."""
  path = pathlib.Path(path)
  cells = {}  # hash -> [adjacency, ops, params, [(val, test, time) per repeat]]
  seen_epochs, count, shown = set(), 0, 0
  bar = Progress('reading NAS-Bench-101', path.stat().st_size, unit='B',
                 unit_scale=True) if progress else None
  for offset, payload in tfrecord.read(path):
    count += 1
    try:
      module_hash, row_epochs, adjacency, ops, metrics = json.loads(payload)
      seen_epochs.add(row_epochs)
      if row_epochs != epochs:
        continue
      params, final = _decode_metrics(base64.b64decode(metrics, validate=True))
    except (ValueError, TypeError) as e:  # JSON, base64, protobuf and shape errors
      raise ValueError(f'{path}: the record at byte {offset} is not a NAS-Bench-101 row '
                       f'({e})') from None
    cell = cells.setdefault(module_hash, [adjacency, ops, params, []])
    cell[3].append(final)
    if bar and count % 20000 == 0:
      bar.update(offset - shown, note=f'{count} rows')
      shown = offset
  if bar:
    bar.update(path.stat().st_size - shown, note=f'{count} rows')
    bar.close()
  if not cells:
    raise ValueError(f'{path}: no rows at {epochs} epochs (budgets in the file: '
                     f'{sorted(seen_epochs) or "none"})')
  return _table(cells, epochs, path)


def _decode_metrics(raw):
  """``(trainable parameters, (val %, test %, seconds) at the end of training)``."""
  metrics = protobuf.decode(raw)
  final = protobuf.decode(metrics[1][-1])  # evaluation_data: start, halfway, end
  return metrics[2][0], (100.0 * protobuf.double(final[4][0]),
                         100.0 * protobuf.double(final[5][0]), protobuf.double(final[2][0]))


def _table(cells, epochs, path):
  hashes = sorted(cells)
  num_vertices = max(int(round(len(cells[h][0])**0.5)) for h in hashes)
  space = space_lib.NASBench101Space(num_vertices=max(num_vertices, 3))
  repeats = max(len(cells[h][3]) for h in hashes)
  matrix = np.zeros((len(hashes), space.num_vertices, space.num_vertices), np.int8)
  ops = np.zeros((len(hashes), space.num_inner), np.int8)
  metrics = np.full((len(hashes), repeats, 3), np.nan, np.float32)
  params = np.zeros(len(hashes), np.int64)
  for r, h in enumerate(hashes):
    adjacency, names, params[r], finals = cells[h]
    n = int(round(len(adjacency)**0.5))
    try:
      cell = space.from_spec(np.array(list(adjacency), np.int8).reshape(n, n), names.split(','))
    except ValueError as e:
      raise ValueError(f'{path}: cell {h} is malformed ({e})') from None
    matrix[r], ops[r] = cell
    metrics[r, :len(finals)] = finals
  keys = canonical_keys(space, space_lib.Cell(matrix, ops.astype(np.int32)))
  order = np.argsort(keys, kind='stable')
  same = np.flatnonzero(keys[order][1:] == keys[order][:-1])
  if same.size:
    a, b = order[same[0]], order[same[0] + 1]
    raise ValueError(f'{path}: cells {hashes[a]} and {hashes[b]} have different official '
                     f'hashes but the same canonical key {keys[a]}: they are isomorphic')
  return NASBench101Table(
      np.array(hashes, 'S32'), matrix, ops, keys, metrics[..., 0], metrics[..., 1],
      metrics[..., 2], params, epochs, space.num_vertices)


# ---- the cache ----------------------------------------------------------------------------

def write_cache(table: NASBench101Table, path, source_size=-1) -> None:
  """Writes atomically, so no reader ever sees half a cache."""
  arrays = {name: getattr(table, name) for name in _TABLE_FIELDS}
  with records.atomic_file(path, 'wb') as f:
    np.savez(f, **arrays, epochs=table.epochs, num_vertices=table.num_vertices,
             version=_CACHE_VERSION, source_size=source_size)


def read_cache(path, with_source_size=False):
  try:
    with np.load(path) as data:
      if int(data['version']) != _CACHE_VERSION:
        raise ValueError(f'cache version {int(data["version"])}, expected {_CACHE_VERSION}')
      table = NASBench101Table(**{name: data[name] for name in _TABLE_FIELDS},
                               epochs=int(data['epochs']),
                               num_vertices=int(data['num_vertices']))
      source_size = int(data['source_size'])
  except FileNotFoundError:
    raise FileNotFoundError(f'NAS-Bench-101 cache {path} not found') from None
  except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
    raise ValueError(f'damaged NAS-Bench-101 cache {path} ({e}); delete it and load the '
                     f'official file again to rebuild it') from None
  if len({len(getattr(table, name)) for name in _TABLE_FIELDS}) != 1:
    raise ValueError(f'damaged NAS-Bench-101 cache {path} (columns of different lengths); '
                     f'delete it and load the official file again to rebuild it')
  return (table, source_size) if with_source_size else table


# ---- writing the official format (synthetic tables, tests) --------------------------------

def official_row(matrix, ops, epochs, repeat_metrics, params) -> list[bytes]:
  """The payloads of one cell, one per repeat, exactly as the official file has them.

  ``repeat_metrics`` is a list of ``(val, test, train seconds)`` with accuracies in percent.
  """
  matrix = np.asarray(matrix)
  adjacency = ''.join(str(int(b)) for b in matrix.ravel())
  payloads = []
  for val, test, seconds in repeat_metrics:
    evaluations = [protobuf.double_field(1, epoch) + protobuf.double_field(2, t) +
                   protobuf.double_field(3, acc) + protobuf.double_field(4, acc) +
                   protobuf.double_field(5, test_acc) +
                   protobuf.bytes_field(6, b'/checkpoints/model.ckpt')
                   for epoch, t, acc, test_acc in ((0, 0.0, 0.1, 0.1),
                                                   (epochs / 2, seconds / 2, val / 200, test / 200),
                                                   (epochs, seconds, val / 100, test / 100))]
    metrics = (b''.join(protobuf.bytes_field(1, e) for e in evaluations) +
               protobuf.varint_field(2, params) + protobuf.double_field(3, seconds))
    row = [space_lib.module_hash(matrix, ops), epochs, adjacency, ','.join(ops),
           base64.b64encode(metrics).decode()]
    payloads.append(json.dumps(row).encode())
  return payloads


def all_cells(space) -> space_lib.Cell:
  """One cell of every isomorphism class of valid cells, in key order (practical up to 6
  vertices: 2^15 matrices times 3^4 op lists; NAS-Bench-101 itself has 423,624)."""
  bits = (np.arange(2**space.num_edges)[:, None] >> np.arange(space.num_edges)) & 1
  inner_ops = np.stack(np.meshgrid(*[np.arange(space_lib.NUM_OPS)] * space.num_inner,
                                   indexing='ij'), -1).reshape(-1, space.num_inner)
  matrices = np.asarray(space.from_choices(np.concatenate(
      [bits, np.zeros((len(bits), space.num_inner), np.int64)], axis=1)).matrix)
  valid = np.asarray(space.is_valid(space_lib.Cell(matrices, np.zeros((len(bits), space.num_inner),
                                                                      np.int32))))
  matrices = np.repeat(matrices[valid], len(inner_ops), axis=0)
  ops = np.tile(inner_ops, (int(valid.sum()), 1)).astype(np.int32)
  keys = canonical_keys(space, space_lib.Cell(matrices, ops))
  _, first = np.unique(keys, return_index=True)
  return space_lib.Cell(matrices[first], ops[first])


def write_synthetic(path, num_vertices=6, seed=0, repeats=3, epochs=(108,)) -> int:
  """An official-format file holding every cell of the ``num_vertices`` space, with made-up
  accuracies: a fixed random function of the path encoding plus per-repeat noise. Gives
  searches a complete table to run on where the real file is absent. ``epochs``: the
  budgets it holds, as ``nasbench_full`` does (4, 12, 36, 108); a shorter budget trains
  for ``epochs / 108`` of the time to a lower accuracy, with noise of its own that reorders
  some cells. Returns the cells."""
  space = space_lib.NASBench101Space(num_vertices=num_vertices)
  cells = all_cells(space)
  rng = np.random.default_rng(seed)
  short_rng = np.random.default_rng(seed + 1)  # the 108-epoch rows do not depend on others
  paths = np.asarray(space.encode(cells, 'path'))
  score = paths @ rng.normal(0, 1, paths.shape[1]) / np.sqrt(paths.sum(axis=1))
  val = 94.0 - 4.0 * np.exp(-score) / (1 + np.exp(-score))
  payloads = []
  for c in range(len(paths)):
    matrix, names = space_lib.to_spec(space_lib.Cell(cells.matrix[c], cells.ops[c]))
    noise = rng.normal(0, 0.2, (repeats, 2))
    seconds = 1000.0 + 100 * c % 700
    for budget in epochs:
      fraction = budget / 108
      shift = 0.0 if budget == 108 else -20 * (1 - fraction) + short_rng.normal(0, 1.0)
      runs = [(val[c] + shift + a, val[c] + shift - 0.5 + b, seconds * fraction)
              for a, b in noise]
      payloads.extend(official_row(matrix, names, budget, runs, 10**6 + 1000 * c))
  tfrecord.write(path, payloads)
  return len(paths)
