"""Speed of BANANAS on this machine: one ensemble fit, one trial, trials batched.

  python -m launch.bench --out=runs/bench/cpu.json
"""

from absl import app, flags

from bananas_jax import results, timing

_OUT = flags.DEFINE_string('out', 'runs/bench/bench.json', 'Where to write the JSON report.')
_BATCHES = flags.DEFINE_list('batch_sizes', ['1', '8', '32', '128'],
                             'Numbers of trials to run batched.')


def main(argv):
  del argv
  sizes = [int(b) for b in _BATCHES.value]
  if min(sizes) < 1:
    raise app.UsageError(f'--batch_sizes must be positive integers, got {_BATCHES.value}')
  report = timing.run_timings(sizes)
  results.write_report(_OUT.value, report)


if __name__ == '__main__':
  app.run(main)
