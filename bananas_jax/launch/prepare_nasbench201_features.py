"""Computes the training-free features of every NAS-Bench-201 cell (parameters, FLOPs,
synflow) with this project's Flax model of the network, for every dataset.

  python -m launch.prepare_nasbench201_features      # rewrites the shipped file

See :mod:`bananas_jax.benchmarks.nasbench201_features` for the definitions.
"""

import time

from absl import flags

from bananas_jax import launch
from bananas_jax.benchmarks import nasbench201_features

_OUT = flags.DEFINE_string('out', str(nasbench201_features.DATA_FILE), 'Where to write the .npz.')


def main(argv):
  del argv
  tick, shown = time.perf_counter(), {}

  def progress(dataset, done, total):
    tenth = 10 * done // total
    if shown.get(dataset) != tenth:
      shown[dataset] = tenth
      print(f'{dataset}: synflow of {done:,} / {total:,} cells, '
            f'{time.perf_counter() - tick:.0f} s', flush=True)

  made = nasbench201_features.write(_OUT.value, progress=progress)
  print(f'wrote {_OUT.value} in {time.perf_counter() - tick:.0f} s ({made["seconds"]})')


def cli():
  launch.run(main)


if __name__ == '__main__':
  cli()
