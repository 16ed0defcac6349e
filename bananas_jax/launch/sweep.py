"""Runs a grid of search experiments, one workdir per point; resumes where it stopped.

  python -m launch.sweep --config=experiments/configs/sweep_smoke.py --config.sweep_dir=DIR
  python -m launch.plot --inputs=DIR --out=DIR/plots

The config is a search config plus ``sweep_dir``, ``grid`` (a product, e.g.
``'bananas.encoding=path,adjacency; dataset=cifar10,cifar100'``) and ``points`` (a list of
override sets separated by ``|``); see bananas_jax/sweep.py.
"""

from ml_collections import config_flags

from bananas_jax import launch, results, sweep

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Sweep config file.',
                                          lock_config=True)


def main(argv):
  del argv
  if _CONFIG.value is None:
    raise ValueError('--config=SWEEP_CONFIG is required (e.g. experiments/configs/sweep_smoke.py)')
  for name, summary in sweep.run_sweep(_CONFIG.value).items():
    print(f'== {name}')
    print(results.format_summary(summary))


def cli():
  launch.run(main)


if __name__ == '__main__':
  cli()
