"""Figures and tables from search workdirs or sweep directories.

  python -m launch.plot --inputs=runs/search_nasbench201_cifar10_200ep --out=runs/plots
  python -m launch.plot --inputs=DIR1,DIR2 --out=OUT --queries=50,100,150

Writes ``test_error.png``/``.pdf`` (one panel per dataset, mean and standard-error band per
algorithm or variant) and ``tables.md``/``tables.tex`` (mean +- stderr at ``--queries``,
with the table's optimum).
"""

import pathlib
import sys

from absl import app, flags

from bananas_jax import plots

_INPUTS = flags.DEFINE_list('inputs', None, 'Workdirs or sweep directories.', required=True)
_OUT = flags.DEFINE_string('out', 'runs/plots', 'Output directory.')
_QUERIES = flags.DEFINE_list('queries', ['50', '100', '150'], 'Query counts of the tables.')


def main(argv):
  del argv
  try:
    queries = [int(q) for q in _QUERIES.value]
    if min(queries) < 1:
      raise ValueError
  except ValueError:
    sys.exit(f'error: --queries must be positive integers, got {",".join(_QUERIES.value)}')
  try:
    paths = plots.write_report(_INPUTS.value, _OUT.value, queries)
  except (ValueError, FileNotFoundError) as e:
    sys.exit(f'error: {e}')
  print(pathlib.Path(_OUT.value, "tables.md").read_text())
  print('wrote ' + ', '.join(map(str, paths)))


if __name__ == '__main__':
  app.run(main)
