"""Speed of BANANAS on this machine: one ensemble fit, one trial, trials batched.

  python -m launch.bench --out=runs/bench/cpu.json
"""

from absl import flags

from bananas_jax import launch, timing

_OUT = flags.DEFINE_string('out', 'runs/bench/bench.json', 'Where to write the JSON report.')
_BATCHES = flags.DEFINE_list('batch_sizes', ['1', '8', '32', '128'],
                             'Numbers of trials to run batched.')


def main(argv):
  del argv
  sizes = launch.positive_ints('batch_sizes', _BATCHES.value)
  launch.write_report(_OUT.value, timing.run_timings(sizes))


def cli():
  launch.run(main)


if __name__ == '__main__':
  cli()
