"""Trains one DARTS-space architecture on CIFAR-10 (resumes from the workdir's checkpoints).

  python -m launch.train_darts --config=bananas_jax/configs/darts_train.py \
      --config.genotype=BANANAS --config.data_dir=/data/cifar10
"""

import pathlib

from ml_collections import config_flags

from bananas_jax import launch
from bananas_jax.darts import train

_CONFIG = config_flags.DEFINE_config_file('config', None, 'DARTS training config file.')


def main(argv):
  del argv
  config = _CONFIG.value
  if config is None:
    raise ValueError('--config=bananas_jax/configs/darts_train.py is required')
  if not config.workdir:
    name = config.genotype if config.genotype.isidentifier() else 'custom'
    config.workdir = f'runs/darts_{config.variant}_{name}'
  train.use_compilation_cache(pathlib.Path(config.workdir) / 'xla_cache')
  summary = train.train(config)
  print({k: v for k, v in summary.items() if k != 'history'})
  print(f'results in {config.workdir}')


def cli():
  launch.run(main)


if __name__ == '__main__':
  cli()
