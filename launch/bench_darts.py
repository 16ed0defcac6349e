"""Speed of DARTS training on this machine: compile time and images/s of one training step,
and the 50-epoch search proxy extrapolated from them (synthetic images; no data needed).

  python -m launch.bench_darts --out=runs/bench/darts.json
  python -m launch.bench_darts --layers=20 --init_channels=36 --batch_size=96 --steps=3
"""

import time

import jax
import numpy as np
from absl import app, flags

from bananas_jax import results
from bananas_jax.darts import count_params, train
from experiments.configs import darts_train

_OUT = flags.DEFINE_string('out', 'runs/bench/darts.json', 'Where to write the report.')
_GENOTYPE = flags.DEFINE_string('genotype', 'BANANAS', 'Architecture (name or genotype text).')
_LAYERS = flags.DEFINE_integer('layers', 20, 'Cells.')
_CHANNELS = flags.DEFINE_integer('init_channels', 36, 'Initial channels.')
_BATCH = flags.DEFINE_integer('batch_size', 96, 'Batch size.')
_STEPS = flags.DEFINE_integer('steps', 3, 'Timed steps after the compiling one.')
_BF16 = flags.DEFINE_bool('bf16', False, 'bfloat16 activations.')
PROXY_IMAGES = 35_000  # 70% of the CIFAR-10 training set, one proxy epoch
PROXY_EPOCHS = 50


def main(argv):
  del argv
  if min(_LAYERS.value, _CHANNELS.value, _BATCH.value, _STEPS.value) < 1:
    raise app.UsageError('--layers, --init_channels, --batch_size and --steps must be >= 1')
  config = darts_train.get_config('proxy')
  config.update(genotype=_GENOTYPE.value, layers=_LAYERS.value, init_channels=_CHANNELS.value,
                batch_size=_BATCH.value, bf16=_BF16.value)
  trainer = train.Trainer(config, steps_per_epoch=1000)
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (_BATCH.value, 32, 32, 3), dtype=np.uint8)
  labels = rng.integers(0, 10, _BATCH.value).astype(np.int32)
  tick = time.perf_counter()
  state = trainer.init(0)
  jax.block_until_ready(state)
  init_s = time.perf_counter() - tick
  tick = time.perf_counter()
  state, metrics = trainer.train_step(state, images, labels, jax.random.key(0), 0.1)
  jax.block_until_ready(metrics)
  first_s = time.perf_counter() - tick
  tick = time.perf_counter()
  for step in range(_STEPS.value):
    state, metrics = trainer.train_step(state, images, labels, jax.random.key(step + 1), 0.1)
  jax.block_until_ready(metrics)
  step_s = (time.perf_counter() - tick) / _STEPS.value
  images_per_s = _BATCH.value / step_s
  report = {
      'device': str(jax.devices()[0]), 'device_count': jax.local_device_count(),
      'genotype': _GENOTYPE.value, 'layers': _LAYERS.value, 'init_channels': _CHANNELS.value,
      'batch_size': _BATCH.value, 'bf16': _BF16.value,
      'params': count_params(_GENOTYPE.value, _CHANNELS.value, _LAYERS.value, auxiliary=True),
      'init_s': round(init_s, 2), 'first_step_s (compile + run)': round(first_s, 2),
      'step_s': round(step_s, 3), 'images_per_s': round(images_per_s, 1),
      'proxy_epoch_s (35,000 images)': round(PROXY_IMAGES / images_per_s, 1),
      'proxy_50_epochs_h': round(PROXY_EPOCHS * PROXY_IMAGES / images_per_s / 3600, 2)}
  results.write_report(_OUT.value, report)


if __name__ == '__main__':
  app.run(main)
