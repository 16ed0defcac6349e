"""Speed of the NAS-Bench-101 data path, measured on synthetic data (the real file cannot be
fetched here): reading an official-format file, and loading a cache of the real size.

  python -m launch.bench_nasbench101 --out=runs/bench/nasbench101.json

1. Writes every cell of the 6-vertex space (64,542 cells x 3 repeats, official format) and
   reads it back: records per second of the reader, and the whole conversion.
2. Writes a cache with 423,624 rows (NAS-Bench-101's size; random valid cells, made-up
   metrics) and times loading it and putting the benchmark on the device.
"""

import pathlib
import tempfile
import time

import jax
import numpy as np
from absl import app, flags

from bananas_jax import results
from bananas_jax.benchmarks import nasbench101 as nb101
from bananas_jax.io import tfrecord
from bananas_jax.spaces import nasbench101 as space_lib

_OUT = flags.DEFINE_string('out', 'runs/bench/nasbench101.json', 'Where to write the report.')
_WORKDIR = flags.DEFINE_string('workdir', '', 'Where to write the synthetic files '
                               "('' = a temporary directory).")
NUM_CELLS = 423_624


def time_reader(directory):
  path = directory / 'nasbench_only108.tfrecord'
  tick = time.perf_counter()
  cells = nb101.write_synthetic(path, num_vertices=6)
  write_s = time.perf_counter() - tick
  tick = time.perf_counter()
  records = sum(1 for _ in tfrecord.read(path))
  framing_s = time.perf_counter() - tick
  tick = time.perf_counter()
  nb101.load(path, progress=False)
  convert_s = time.perf_counter() - tick
  return {'cells': cells, 'records': records, 'file_mb': round(path.stat().st_size / 2**20, 1),
          'write_s': round(write_s, 2), 'framing_and_crc_records_per_s': round(records / framing_s),
          'conversion_s': round(convert_s, 2),
          'conversion_records_per_s': round(records / convert_s),
          'cache_mb': round(nb101.cache_path(path).stat().st_size / 2**20, 1)}


def time_full_size_cache(directory):
  space = space_lib.NASBench101Space()
  cells = space.sample(jax.random.key(0), 4096)
  rng = np.random.default_rng(0)
  pick = rng.integers(0, 4096, NUM_CELLS)
  accuracy = rng.uniform(80, 95, (NUM_CELLS, 3)).astype(np.float32)
  table = nb101.NASBench101Table(
      hashes=np.sort(np.array([f'{i:032x}' for i in range(NUM_CELLS)], 'S32')),
      matrix=np.asarray(cells.matrix)[pick], ops=np.asarray(cells.ops)[pick].astype(np.int8),
      keys=np.arange(NUM_CELLS, dtype=np.int32) * 5000,  # distinct, as in the real table
      val_accuracy=accuracy, test_accuracy=accuracy - 0.5, train_time=accuracy * 20,
      params=rng.integers(10**5, 10**7, NUM_CELLS), epochs=108, num_vertices=7)
  cache = directory / 'full_size.108ep.npz'
  nb101.write_cache(table, cache)
  tick = time.perf_counter()
  loaded = nb101.load(cache)
  load_s = time.perf_counter() - tick
  tick = time.perf_counter()
  jax.block_until_ready(loaded.benchmark().val_error)
  device_s = time.perf_counter() - tick
  return {'cells': NUM_CELLS, 'cache_mb': round(cache.stat().st_size / 2**20, 1),
          'load_s': round(load_s, 3), 'to_benchmark_on_device_s': round(device_s, 3),
          'total_s': round(load_s + device_s, 3)}


def main(argv):
  del argv
  with tempfile.TemporaryDirectory() as tmp:
    directory = pathlib.Path(_WORKDIR.value or tmp)
    directory.mkdir(parents=True, exist_ok=True)
    report = {'device': str(jax.devices()[0]), 'reader': time_reader(directory),
              'full_size_cache': time_full_size_cache(directory)}
  results.write_report(_OUT.value, report)


if __name__ == '__main__':
  app.run(main)
