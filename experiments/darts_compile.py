"""What the DARTS training step's compilation is made of: tracing and lowering (Python and
JAX) apart from XLA's compilation, optionally with XLA compiler options, then a few steps.
The figures behind WORKSPACE.md's "Speed" section on the first architecture's start.

  python -m experiments.darts_compile --layers=20 --init_channels=36
  python -m experiments.darts_compile --layers=8 --init_channels=16 \
      --compiler_options='{"xla_backend_optimization_level": 1}'
  XLA_FLAGS=--xla_force_host_platform_device_count=1 python -m experiments.darts_compile

Prints one JSON line (with provenance): lower_s (both programs of the step: the gradients
and the update), xla_compile_s of each, step_s and the kernel's CPU seconds
(step_system_s: first touches of memory) of each step, and each optimized program's size
(instructions, fusions, while loops, conditionals).
"""

import json
import resource
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import flags

from bananas_jax import launch  # makes every CPU core a JAX device, before JAX starts
from bananas_jax.configs import darts_train
from bananas_jax.darts import train
from bananas_jax.provenance import provenance

_LAYERS = flags.DEFINE_integer('layers', 20, 'Cells.', lower_bound=1)
_CHANNELS = flags.DEFINE_integer('init_channels', 36, 'Initial channels.', lower_bound=1)
_BATCH = flags.DEFINE_integer('batch_size', 96, 'Batch size.', lower_bound=1)
_SCAN_CELLS = flags.DEFINE_bool('scan_cells', False, "A stage's normal cells as one scan.")
_STEPS = flags.DEFINE_integer('steps', 3, 'Steps run after compiling.', lower_bound=1)
_OPTIONS = flags.DEFINE_string('compiler_options', '{}', 'XLA compiler options, as JSON.')


def main(argv):
  del argv
  try:
    options = json.loads(_OPTIONS.value)
  except json.JSONDecodeError as e:
    raise ValueError(f'--compiler_options must be a JSON object, got {_OPTIONS.value!r}: '
                     f'{e}') from None
  config = darts_train.get_config('proxy')
  config.update(genotype='BANANAS', layers=_LAYERS.value, init_channels=_CHANNELS.value,
                batch_size=_BATCH.value, scan_cells=_SCAN_CELLS.value)
  trainer = train.Trainer(config, steps_per_epoch=1000)
  state = trainer.init(0)
  images, labels = np.zeros((config.batch_size, 32, 32, 3), np.uint8), np.zeros(
      config.batch_size, np.int32)
  tick = time.perf_counter()
  lowered = trainer.lower_step(state, images, labels, jax.random.key(0), 0.1)
  lower_s = time.perf_counter() - tick
  compiled, compile_s = {}, {}
  for name, program in lowered.items():
    tick = time.perf_counter()
    compiled[name] = program.compile(compiler_options=options)
    compile_s[name] = round(time.perf_counter() - tick, 1)
  step_s, step_system_s = [], []
  data = (trainer.arch_on_devices, trainer.recipe_on_devices)
  for step in range(_STEPS.value):
    tick, system = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_stime
    grads, batch_stats, metrics = compiled['gradients'](
        state, *trainer.shard(images, labels), jax.random.key(step), jnp.float32(0.1), *data)
    state = compiled['update'](state, grads, batch_stats, *data)
    jax.block_until_ready((state, metrics))
    step_s.append(round(time.perf_counter() - tick, 2))
    step_system_s.append(round(resource.getrusage(resource.RUSAGE_SELF).ru_stime - system, 2))
  texts = {name: program.as_text() for name, program in compiled.items()}
  count = lambda pattern: {name: text.count(pattern) for name, text in texts.items()}
  print(json.dumps({
      **provenance(), 'layers': config.layers,
      'init_channels': config.init_channels, 'batch_size': config.batch_size,
      'scan_cells': config.scan_cells, 'devices': len(trainer.devices),
      'compiler_options': options, 'lower_s': round(lower_s, 1),
      'xla_compile_s': compile_s, 'step_s': step_s, 'step_system_s': step_system_s,
      'instructions': count('\n'), 'fusions': count(' fusion('),
      'while_loops': count(' while('), 'conditionals': count(' conditional(')}))


if __name__ == '__main__':
  launch.run(main)
