"""Runs search algorithms on a benchmark and prints the comparison table.

  python -m launch.search                                  # the main job
  python -m launch.search --config=experiments/configs/nasbench201.py --config.trials=100
"""

import pathlib
import sys

import jax
from absl import app
from ml_collections import config_flags

from bananas_jax import experiment, results

_DEFAULT_CONFIG = pathlib.Path(__file__).parents[1] / 'experiments' / 'configs' / 'nasbench201.py'
_CONFIG = config_flags.DEFINE_config_file('config', str(_DEFAULT_CONFIG),
                                          'Experiment config file.')


def main(argv):
  del argv
  config = _CONFIG.value
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
