"""Rebuilds the package's NAS-Bench-201 table from its CSV form.

  python -m launch.prepare_nasbench201 --csv=nb201_table.csv.gz
"""

from absl import app, flags

from bananas_jax.benchmarks import nasbench201

_CSV = flags.DEFINE_string('csv', None, 'The NAS-Bench-201 CSV table (.csv or .csv.gz).',
                           required=True)
_OUT = flags.DEFINE_string('out', str(nasbench201.DATA_FILE), 'Where to write the .npz.')


def main(argv):
  del argv
  print(f'wrote {nasbench201.convert_csv(_CSV.value, _OUT.value)}')


if __name__ == '__main__':
  app.run(main)
