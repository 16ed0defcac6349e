"""Builds a NAS-Bench-201 table (``.npz``) from the project's CSV or the official files.

  python -m launch.prepare_nasbench201 --csv=nb201_table.csv.gz             # the embedded one
  python -m launch.prepare_nasbench201 --official=NAS-Bench-201-v1_1-096897.pth --out=nb201.npz
  python -m launch.prepare_nasbench201 --official=NATS-tss-v1_0-3ffb9-simple --out=nb201.npz

Then ``python -m launch.search --config.data_path=nb201.npz`` searches on it. Official files
are read through their API packages (``pip install nas-bench-201`` or ``nats_bench``).
"""

from absl import flags

from bananas_jax import launch
from bananas_jax.benchmarks import nasbench201

_CSV = flags.DEFINE_string('csv', None, 'The NAS-Bench-201 CSV table (.csv or .csv.gz).')
_OFFICIAL = flags.DEFINE_string('official', None, 'An official NAS-Bench-201 .pth file or '
                                'NATS-Bench topology directory.')
_OUT = flags.DEFINE_string('out', str(nasbench201.DATA_FILE), 'Where to write the .npz.')
flags.mark_flags_as_mutual_exclusive(['csv', 'official'], required=True)


def main(argv):
  del argv
  if _CSV.value:
    out = nasbench201.convert_csv(_CSV.value, _OUT.value)
  else:
    out = nasbench201.convert_official(nasbench201.open_official(_OFFICIAL.value), _OUT.value)
  print(f'wrote {out}')


def cli():
  launch.run(main)


if __name__ == '__main__':
  cli()
