"""Figures and tables from search workdirs or sweep directories.

  python -m launch.plot --inputs=runs/search_nasbench201_cifar10_200ep --out=runs/plots
  python -m launch.plot --inputs=DIR1,DIR2 --out=OUT --queries=50,100,150 --budgets=10,50,150

Writes ``test_error.png``/``.pdf`` (one panel per dataset, mean and standard-error band per
algorithm or variant) and ``tables.md``/``tables.tex`` (mean +- stderr at ``--queries``,
with the table's optimum); where records carry simulated training time, also
``test_error_vs_cost.png``/``.pdf`` (against GPU-hours) and tables at ``--budgets``, in full
trainings (multiples of the table's mean full-fidelity training time).
"""

import pathlib

from absl import flags

from bananas_jax import launch, plots

_INPUTS = flags.DEFINE_list('inputs', None, 'Workdirs or sweep directories.', required=True)
_OUT = flags.DEFINE_string('out', 'runs/plots', 'Output directory.')
_QUERIES = flags.DEFINE_list('queries', ['50', '100', '150'], 'Query counts of the tables.')
_BUDGETS = flags.DEFINE_list('budgets', ['10', '25', '50', '100', '150'],
                             'Simulated budgets of the tables, in full trainings.')


def main(argv):
  del argv
  queries = launch.positive_ints('queries', _QUERIES.value)
  budgets = launch.positive_ints('budgets', _BUDGETS.value)
  _, paths = plots.write_report(_INPUTS.value, _OUT.value, queries, budgets)
  print(pathlib.Path(_OUT.value, 'tables.md').read_text())
  print('wrote ' + ', '.join(map(str, paths)))


def cli():
  launch.run(main)


if __name__ == '__main__':
  cli()
