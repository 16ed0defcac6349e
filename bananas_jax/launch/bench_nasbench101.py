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

from absl import flags

from bananas_jax import launch, timing
from bananas_jax.provenance import provenance

_OUT = flags.DEFINE_string('out', 'runs/bench/nasbench101.json', 'Where to write the report.')
_WORKDIR = flags.DEFINE_string('workdir', '', 'Where to write the synthetic files '
                               "('' = a temporary directory).")


def main(argv):
  del argv
  with tempfile.TemporaryDirectory() as tmp:
    directory = pathlib.Path(_WORKDIR.value or tmp)
    directory.mkdir(parents=True, exist_ok=True)
    report = {**provenance(), 'reader': timing.time_nasbench101_reader(directory),
              'full_size_cache': timing.time_nasbench101_cache(directory)}
  launch.write_report(_OUT.value, report)


def cli():
  launch.run(main)


if __name__ == '__main__':
  cli()
