"""Figures and tables from search workdirs or sweep directories.

  python -m launch.plot --inputs=runs/search_nasbench201_cifar10_200ep --out=runs/plots
  python -m launch.plot --inputs=DIR1,DIR2 --out=OUT --queries=50,100,150

Writes ``test_error.png``/``.pdf`` (one panel per dataset, mean and standard-error band per
algorithm or variant) and ``tables.md``/``tables.tex`` (mean +- stderr at ``--queries``,
with the table's optimum).
"""

import pathlib

from absl import flags

from bananas_jax import launch, plots

_INPUTS = flags.DEFINE_list('inputs', None, 'Workdirs or sweep directories.', required=True)
_OUT = flags.DEFINE_string('out', 'runs/plots', 'Output directory.')
_QUERIES = flags.DEFINE_list('queries', ['50', '100', '150'], 'Query counts of the tables.')


def main(argv):
  del argv
  queries = launch.positive_ints('queries', _QUERIES.value)
  _, paths = plots.write_report(_INPUTS.value, _OUT.value, queries)
  print(pathlib.Path(_OUT.value, 'tables.md').read_text())
  print('wrote ' + ', '.join(map(str, paths)))


def cli():
  launch.run(main)


if __name__ == '__main__':
  cli()
