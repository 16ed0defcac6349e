"""The predictor study: ensemble accuracy vs training-set size, per encoding.

  python -m launch.predict --config=bananas_jax/configs/predictor.py
"""

import pathlib

from ml_collections import config_flags

from bananas_jax import launch, predictor_study

_DEFAULT_CONFIG = pathlib.Path(__file__).parents[1] / 'configs' / 'predictor.py'
_CONFIG = config_flags.DEFINE_config_file('config', str(_DEFAULT_CONFIG),
                                          'Predictor study config file.')


def main(argv):
  del argv
  report = predictor_study.run_predictor_study(_CONFIG.value)
  print(predictor_study.format_report(report))
  print(f'results in {_CONFIG.value.workdir}')


def cli():
  launch.run(main)


if __name__ == '__main__':
  cli()
