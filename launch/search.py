"""Runs search algorithms on a benchmark and prints the comparison table.

  python -m launch.search                                  # the main job
  python -m launch.search --config=experiments/configs/nasbench201.py --config.trials=100
  python -m launch.search --config=experiments/configs/darts_search.py --config.data_dir=DIR

On the DARTS space every query is a real training, run one step at a time
(bananas_jax/darts/search.py); on the tabular benchmarks trials run batched.
"""

import pathlib
import sys

import jax
from absl import app
from ml_collections import config_flags

from bananas_jax import experiment, results
from bananas_jax.darts import search as darts_search

_DEFAULT_CONFIG = pathlib.Path(__file__).parents[1] / 'experiments' / 'configs' / 'nasbench201.py'
_CONFIG = config_flags.DEFINE_config_file('config', str(_DEFAULT_CONFIG),
                                          'Experiment config file.')


def main(argv):
  del argv
  config = _CONFIG.value
  if config.search_space == 'darts':
    try:
      darts_search.run(config)
    except (ValueError, FileNotFoundError) as e:
      sys.exit(f'error: {e}')
    return
  process = (0, 1)
  if config.multihost:  # the cluster is found from the environment (TPU pods, SLURM, ...)
    jax.distributed.initialize()
    process = (jax.process_index(), jax.process_count())
  try:
    summary = experiment.run_search(config, *process)
  except (ValueError, FileNotFoundError) as e:
    sys.exit(f'error: {e}')
  print(results.format_table(summary))
  print(f'results in {experiment.workdir_of(_CONFIG.value)}')


if __name__ == '__main__':
  app.run(main)
