"""The predictor study: ensemble accuracy vs training-set size, per encoding.

  python -m launch.predict --config=experiments/configs/predictor.py
"""

import pathlib
import sys

from absl import app
from ml_collections import config_flags

from bananas_jax.predictors import study

_DEFAULT_CONFIG = pathlib.Path(__file__).parents[1] / 'experiments' / 'configs' / 'predictor.py'
_CONFIG = config_flags.DEFINE_config_file('config', str(_DEFAULT_CONFIG),
                                          'Predictor study config file.')


def main(argv):
  del argv
  try:
    report = study.run_predictor_study(_CONFIG.value)
  except (ValueError, FileNotFoundError) as e:
    sys.exit(f'error: {e}')
  print(study.format_table(report))
  print(f'results in {_CONFIG.value.workdir}')


if __name__ == '__main__':
  app.run(main)
