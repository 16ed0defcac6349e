"""NAS-Bench-201 on the embedded table (all 15,625 cells, three datasets, no download).

The package ships ``data/nasbench201.npz``, converted once from the project's CSV table
by :func:`convert_csv` (provenance in ``data/NASBENCH201.md``). Rows are official
indices; ops are stored in the original BANANAS op order of
:mod:`bananas_jax.spaces.nasbench201`.
"""

import csv
import functools
import gzip
import os
import pathlib
import tempfile
import zipfile

import numpy as np

from bananas_jax.benchmarks.tabular import TabularBenchmark
from bananas_jax.spaces import nasbench201 as space_lib

DATASETS = ('cifar10', 'cifar100', 'imagenet16_120')
FIDELITIES = (200, 12)
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
  out_path = pathlib.Path(out_path)
  out_path.parent.mkdir(parents=True, exist_ok=True)
  with tempfile.NamedTemporaryFile(dir=out_path.parent, suffix='.npz', delete=False) as tmp:
    np.savez_compressed(tmp, **arrays)
  os.chmod(tmp.name, 0o644)
  os.replace(tmp.name, out_path)
  return out_path


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
  times: there ``train_time`` is the 200-epoch time scaled by 12/200.
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
