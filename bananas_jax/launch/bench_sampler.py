"""Overhead of BananasSampler per asynchronous ask, at several numbers of finished trials.

  python -m launch.bench_sampler --out=runs/bench/sampler.json
"""

from absl import flags

from bananas_jax import launch, timing

_OUT = flags.DEFINE_string('out', 'runs/bench/sampler.json', 'Where to write the JSON report.')
_FINISHED = flags.DEFINE_list('finished_trials', ['100', '1000'],
                              'Numbers of finished trials in the study.')
_ASKS = flags.DEFINE_integer('asks', 5, 'Asks timed per study (after one that compiles).')


def main(argv):
  del argv
  counts = launch.positive_ints('finished_trials', _FINISHED.value)
  if _ASKS.value < 1:
    raise ValueError(f'--asks must be at least 1, got {_ASKS.value}')
  launch.write_report(_OUT.value, timing.time_sampler_overhead(counts, _ASKS.value))


def cli():
  launch.run(main)


if __name__ == '__main__':
  cli()
