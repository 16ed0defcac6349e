"""Whether two runs' records are the same, bit for bit but for their wall time: the check a
refactoring must pass (every algorithm, a few seeds, at two commits).

  ALGS=$(python -c "from bananas_jax import search; print(','.join(search.ALGORITHMS))")
  python -m launch.search --config=bananas_jax/configs/nasbench201.py \
      --config.algorithms=$ALGS --config.trials=2 --config.trial_batch=2 \
      --config.workdir=/tmp/records_new     # and the same from a checkout of the old commit
  python -m experiments.same_records /tmp/records_old /tmp/records_new

Prints each (algorithm, seed) whose record differs and exits 1 if any does.
"""

import pathlib
import sys

from bananas_jax.io import records

IGNORED = ('wall_time_s',)  # how long a batch took: the machine's, not the search's


def keyed(workdir):
  path = pathlib.Path(workdir) / 'results.jsonl'
  if not path.exists():
    raise SystemExit(f'error: {path} does not exist; give the workdirs of two launch.search '
                     f'runs')
  found = records.read_jsonl(path, repair=False)  # read only: never rewrite a run's file
  return {(r['algorithm'], r['seed']): {k: v for k, v in r.items() if k not in IGNORED}
          for r in found}


def main(old, new):
  a, b = keyed(old), keyed(new)
  different = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
  for algorithm, seed in different:
    print(f'different: {algorithm} seed {seed}')
  print(f'{len(a.keys() & b.keys()) - len(different)} of {len(a.keys() | b.keys())} records '
        f'identical ({", ".join(sorted({k[0] for k in a.keys() | b.keys()}))})')
  return 1 if different else 0


if __name__ == '__main__':
  if len(sys.argv) != 3:
    sys.exit('usage: python -m experiments.same_records OLD_WORKDIR NEW_WORKDIR')
  sys.exit(main(*sys.argv[1:]))
