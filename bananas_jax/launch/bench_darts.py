"""Speed of DARTS training on this machine, for a first architecture and a second one after
it: the time to its first finished step (the step's programs compiled on threads while the
initial state is drawn, then the first run), each program's compilation, and steady
images/s, each by the programs shared by every architecture and by one compiled per
architecture, side by side; a 50-epoch search proxy and a 100-architecture search
extrapolated from them; the per-epoch checkpoint's size, save and load time (synthetic
images; no data needed).

  python -m launch.bench_darts --out=runs/bench/darts.json
  python -m launch.bench_darts --layers=20 --init_channels=36 --batch_size=96 --steps=3
  python -m launch.bench_darts --concurrent=4   # 4 trainings at once, one per device

``--concurrent=k`` adds the wall time of a training step of k trainings run one after
another and all at once, each on its own device (as a step of the DARTS search runs them).
"""

from absl import flags

from bananas_jax import launch, timing
from bananas_jax.configs import darts_train

_OUT = flags.DEFINE_string('out', 'runs/bench/darts.json', 'Where to write the report.')
_GENOTYPE = flags.DEFINE_string('genotype', 'BANANAS', 'First architecture (name or genotype '
                                'text).')
_SECOND = flags.DEFINE_string('second', 'DARTS_V2', 'Second architecture, trained after it.')
_PER_GENOTYPE = flags.DEFINE_bool('per_genotype', True, 'Also time the program compiled for '
                                  'each architecture.')
_LAYERS = flags.DEFINE_integer('layers', 20, 'Cells.', lower_bound=1)
_CHANNELS = flags.DEFINE_integer('init_channels', 36, 'Initial channels.', lower_bound=1)
_BATCH = flags.DEFINE_integer('batch_size', 96, 'Batch size.', lower_bound=1)
_STEPS = flags.DEFINE_integer('steps', 3, 'Timed steps after the compiling one.', lower_bound=1)
_BF16 = flags.DEFINE_bool('bf16', False, 'bfloat16 activations.')
_SCAN_CELLS = flags.DEFINE_bool('scan_cells', False, "A stage's normal cells as one scan.")
_CONCURRENT = flags.DEFINE_integer('concurrent', 0, 'Also time this many trainings at once, '
                                   'one per device group (0: not).', lower_bound=0)


def main(argv):
  del argv
  config = darts_train.get_config('proxy')
  config.update(genotype=_GENOTYPE.value, layers=_LAYERS.value, init_channels=_CHANNELS.value,
                batch_size=_BATCH.value, bf16=_BF16.value, scan_cells=_SCAN_CELLS.value)
  report = timing.time_darts_steps(config, _STEPS.value, _SECOND.value, _PER_GENOTYPE.value)
  if _CONCURRENT.value:
    report['concurrent'] = timing.time_concurrent_darts_trainings(config, _CONCURRENT.value,
                                                                  _STEPS.value)
  launch.write_report(_OUT.value, report)


def cli():
  launch.run(main)


if __name__ == '__main__':
  cli()
