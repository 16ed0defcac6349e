"""Runs search algorithms on a benchmark and prints the comparison table.

  python -m launch.search                                  # the main job
  python -m launch.search --config=bananas_jax/configs/nasbench201.py --config.trials=100
  python -m launch.search --config=bananas_jax/configs/darts_search.py --config.data_dir=DIR

On the tabular benchmarks trials run batched (bananas_jax/experiment.py; ``multihost``
splits the trials over processes); on the DARTS space every query is a real proxy training,
the trainings the workers of one Optuna study (bananas_jax/stepwise.py; ``storage`` joins
hosts).
"""

import pathlib

import jax
from ml_collections import config_flags

from bananas_jax import experiment, launch, results, stepwise
from bananas_jax.darts import train

_DEFAULT_CONFIG = pathlib.Path(__file__).parents[1] / 'configs' / 'nasbench201.py'
_CONFIG = config_flags.DEFINE_config_file('config', str(_DEFAULT_CONFIG),
                                          'Experiment config file.')


def main(argv):
  del argv
  config = _CONFIG.value
  if config.search_space == 'darts':
    train.use_compilation_cache(stepwise.workdir_of(config) / 'xla_cache')
    print(f'so far:\n{stepwise.format_status(stepwise.status(config))}')
    stepwise.run_stepwise(config, train.proxy_query_fn(config.train, config.data_dir))
    print(f'{stepwise.workdir_of(config)}:\n{stepwise.format_status(stepwise.status(config))}')
    return
  process = (0, 1)
  if config.multihost:  # the cluster is found from the environment (TPU pods, SLURM, ...)
    jax.distributed.initialize()
    process = (jax.process_index(), jax.process_count())
  summary = experiment.run_search(config, *process)
  print(results.format_summary(summary))
  print(f'results in {experiment.workdir_of(config)}')


def cli():
  launch.run(main)


if __name__ == '__main__':
  cli()
