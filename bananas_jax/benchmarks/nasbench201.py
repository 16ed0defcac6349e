"""NAS-Bench-201 on the embedded table (all 15,625 cells, three datasets, no download).

The package ships ``data/nasbench201.npz``, converted once from the project's CSV table
by :func:`convert_csv` (provenance in ``data/NASBENCH201.md``). Rows are official
indices; ops are stored in the original BANANAS op order of
:mod:`bananas_jax.spaces.nasbench201`.
"""

import csv
import functools
import gzip
import importlib
import pathlib
import zipfile

import numpy as np

from bananas_jax.benchmarks.tabular import TabularBenchmark
from bananas_jax.io import records
from bananas_jax.progress import Progress
from bananas_jax.spaces import nasbench201 as space_lib

DATASETS = ('cifar10', 'cifar100', 'imagenet16_120')
FIDELITIES = (12, 200)  # the training budgets (epochs) of the tables, ascending
DATA_FILE = pathlib.Path(__file__).parent / 'data' / 'nasbench201.npz'
SPACE = space_lib.NASBench201Space()

# The CSV's op digits (0 none, 1 skip_connect, 2 nor_conv_1x1, 3 nor_conv_3x3,
# 4 avg_pool_3x3) to the original BANANAS op codes.
_CSV_OP_NAMES = ('none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3')
_CSV_DIGIT_TO_CODE = np.array([space_lib.OPS.index(op) for op in _CSV_OP_NAMES], np.int8)


def convert_csv(csv_path, out_path=DATA_FILE):
  """Converts the NAS-Bench-201 CSV table (plain or gzipped) into the package's ``.npz``.

  Checks every row's string against its op digits and index, and writes atomically so
  that an interrupted conversion never leaves a half-written file behind.
  """
  csv_path = pathlib.Path(csv_path)
  opener = gzip.open if csv_path.suffix == '.gz' else open
  try:
    with opener(csv_path, 'rt', newline='') as f:
      rows = list(csv.DictReader(f))
  except (OSError, EOFError, UnicodeDecodeError, csv.Error) as e:
    raise ValueError(f'cannot read NAS-Bench-201 table {csv_path}: {e}') from e
  if len(rows) != space_lib.NUM_ARCHS:
    raise ValueError(f'{csv_path}: expected {space_lib.NUM_ARCHS} rows, found {len(rows)}')
  try:
    arrays = _columns(rows)
  except (KeyError, ValueError) as e:
    raise ValueError(f'{csv_path}: not a NAS-Bench-201 table ({e!r})') from e
  return _write_table(arrays, out_path)


def _write_table(arrays, out_path):
  """Writes atomically: an interrupted conversion never leaves half a table behind."""
  with records.atomic_file(out_path, 'wb') as f:
    np.savez_compressed(f, **arrays)
  return pathlib.Path(out_path)


# The official API's dataset names: (validation dataset, test dataset) of each of ours;
# CIFAR-10 pairs the cifar10-valid split's validation with the full model's test accuracy.
_OFFICIAL_DATASETS = {'cifar10': ('cifar10-valid', 'cifar10'), 'cifar100': ('cifar100', 'cifar100'),
                      'imagenet16_120': ('ImageNet16-120', 'ImageNet16-120')}


def open_official(path):
  """The official API over ``path``: a ``NATS-tss-*`` directory through ``nats_bench``, a
  ``NAS-Bench-201-v1_*.pth`` file through ``nas_201_api`` (optional packages, imported here)."""
  path = pathlib.Path(path)
  if not path.exists():
    raise FileNotFoundError(f'official NAS-Bench-201 data not found at {path}')
  if path.name.startswith('NATS'):
    package, install = 'nats_bench', 'pip install nats_bench'
  else:
    package, install = 'nas_201_api', 'pip install nas-bench-201'
  try:
    module = importlib.import_module(package)
  except ImportError as e:  # the package itself, or what it imports (nas_201_api needs torch)
    raise ImportError(f'reading {path} needs the official API package {package!r} '
                      f'({install}; `pip install bananas-jax[nb201]` brings it with torch): '
                      f'importing it failed with: {e}') from e
  if package == 'nats_bench':
    return module.create(str(path), 'tss', fast_mode=True, verbose=False)
  return module.NASBench201API(str(path), verbose=False)


def convert_official(api, out_path):
  """Converts an official API object (:func:`open_official`) into the package's table.

  Reads through the API's documented calls only (``len``, ``arch``, ``get_more_info``,
  ``get_cost_info``, ``query_meta_info_by_index(...).get_dataset_seeds``), so NAS-Bench-201
  v1.0/v1.1 and NATS-Bench topology files all convert to the same columns as the CSV.
  """
  if len(api) != space_lib.NUM_ARCHS:
    raise ValueError(f'expected {space_lib.NUM_ARCHS} architectures, the API has {len(api)}')
  ops = np.stack([SPACE.from_string(api.arch(i)) for i in range(space_lib.NUM_ARCHS)])
  arrays = {'ops': ops.astype(np.int8)}
  bar = Progress('reading the official API', len(_OFFICIAL_DATASETS) * space_lib.NUM_ARCHS,
                 unit='arch')
  for ds, (val_ds, test_ds) in _OFFICIAL_DATASETS.items():
    columns = {name: [] for name in ('val', 'seeds', 'num_seeds', 'test', 'time', 'params',
                                     'latency', 'val_12', 'test_12')}
    bar.set_note(ds)
    for i in range(space_lib.NUM_ARCHS):
      bar.update()
      info = lambda dataset, hp, seed=False: api.get_more_info(i, dataset, hp=hp, is_random=seed)
      seeds = api.query_meta_info_by_index(i, hp='200').get_dataset_seeds(val_ds)
      per_seed = [info(val_ds, '200', seed)['valid-accuracy'] for seed in seeds]
      cost = api.get_cost_info(i, val_ds, hp='200')
      columns['val'].append(info(val_ds, '200')['valid-accuracy'])
      columns['seeds'].append(per_seed + [np.nan] * (3 - len(per_seed)))
      columns['num_seeds'].append(len(per_seed))
      columns['test'].append(info(test_ds, '200')['test-accuracy'])
      columns['time'].append(info(val_ds, '200')['train-all-time'])
      columns['params'].append(cost['params'])
      columns['latency'].append(cost['latency'])
      columns['val_12'].append(info(val_ds, '12')['valid-accuracy'])
      columns['test_12'].append(info(test_ds, '12')['test-accuracy'])
    as_array = lambda name, dtype=np.float32: np.array(columns[name], dtype)
    arrays.update({
        f'{ds}_200_val_acc': as_array('val'), f'{ds}_200_val_acc_seeds': as_array('seeds'),
        f'{ds}_200_num_seeds': as_array('num_seeds', np.int8),
        f'{ds}_200_test_acc': as_array('test'), f'{ds}_200_train_time_s': as_array('time'),
        f'{ds}_params_M': as_array('params'), f'{ds}_latency_s': as_array('latency'),
        f'{ds}_12_val_acc': as_array('val_12'), f'{ds}_12_test_acc': as_array('test_12')})
  bar.close()
  return _write_table(arrays, out_path)


def _columns(rows):
  ops = np.zeros((len(rows), space_lib.NUM_EDGES), np.int8)
  for i, row in enumerate(rows):
    if int(row['index']) != i:
      raise ValueError(f'row {i} has index {row["index"]}')
    ops[i] = _CSV_DIGIT_TO_CODE[[int(d) for d in row['ops']]]
    if SPACE.to_string(ops[i]) != row['arch_str']:
      raise ValueError(f'row {i}: ops {row["ops"]} do not match {row["arch_str"]}')
  col = lambda name: np.array([float(r[name]) for r in rows], np.float32)
  arrays = {'ops': ops}
  for ds in DATASETS:
    arrays[f'{ds}_200_val_acc'] = col(f'{ds}_val_acc')
    arrays[f'{ds}_200_val_acc_seeds'] = np.array(
        [[float(r[f'{ds}_val_acc_s{s}'] or 'nan') for s in range(3)] for r in rows], np.float32)
    arrays[f'{ds}_200_num_seeds'] = col(f'{ds}_val_acc_nseeds').astype(np.int8)
    arrays[f'{ds}_200_test_acc'] = col(f'{ds}_test_acc')
    arrays[f'{ds}_200_train_time_s'] = col(f'{ds}_train_time_s')
    arrays[f'{ds}_params_M'] = col(f'{ds}_params_M')
    arrays[f'{ds}_latency_s'] = col(f'{ds}_latency_s')
    val_12 = 'cifar10_valid_val_acc_12ep' if ds == 'cifar10' else f'{ds}_val_acc_12ep'
    arrays[f'{ds}_12_val_acc'] = col(val_12)
    arrays[f'{ds}_12_test_acc'] = col(f'{ds}_test_acc_12ep')
  return arrays


@functools.lru_cache(maxsize=1)
def read_table(path=DATA_FILE):
  """All arrays of the ``.npz`` table as NumPy (read once per process)."""
  try:
    with np.load(path) as data:
      return {name: data[name] for name in data.files}
  except FileNotFoundError:
    raise FileNotFoundError(
        f'NAS-Bench-201 table not found at {path}; it ships with the package, so reinstall '
        f'it or rebuild it with `python -m launch.prepare_nasbench201 --csv=TABLE.csv.gz`'
    ) from None
  except (OSError, ValueError, zipfile.BadZipFile) as e:
    raise ValueError(f'corrupt NAS-Bench-201 table {path}: {e}') from e


def load(dataset='cifar10', fidelity=200, path=None) -> TabularBenchmark:
  """The benchmark for one dataset at 200 epochs (default) or the 12-epoch schedule.

  Validation error is 100 - validation accuracy, mean over the seeds the table has; the
  per-seed values (200 epochs only) serve noisy mode. ``path``: a table converted by
  ``launch.prepare_nasbench201``; None means the embedded one. The 12-epoch table has no training
  times: there ``train_time`` is the 200-epoch time scaled by 12/200 (the embedded CSV
  holds no better figure; the official API's ``get_more_info(..., hp='12')`` has the
  measured ones, which a table converted from it could carry).
  """
  if dataset not in DATASETS:
    raise ValueError(f'unknown dataset {dataset!r}; accepted: {", ".join(DATASETS)}')
  if fidelity not in FIDELITIES:
    raise ValueError(f'unknown fidelity {fidelity!r}; accepted: '
                     f'{", ".join(map(str, FIDELITIES))} (epochs)')
  table = read_table(path or DATA_FILE)
  train_time = table[f'{dataset}_200_train_time_s']
  if fidelity == 200:
    seeds = 100.0 - table[f'{dataset}_200_val_acc_seeds']
    num_seeds = table[f'{dataset}_200_num_seeds'].astype(np.int32)
  else:
    seeds = np.zeros((len(train_time), 0), np.float32)
    num_seeds = np.zeros(len(train_time), np.int32)
    train_time = train_time * (12 / 200)
  ops = table['ops'].astype(np.int32)
  return TabularBenchmark.from_rows(
      SPACE, ops, np.asarray(SPACE.canonical_key(ops)), 'nasbench201', dataset, fidelity,
      val_error=100.0 - table[f'{dataset}_{fidelity}_val_acc'], val_error_seeds=seeds,
      num_seeds=num_seeds, test_error=100.0 - table[f'{dataset}_{fidelity}_test_acc'],
      train_time=train_time)
