"""Training the DARTS network on CIFAR-10: data-parallel over local devices, checkpointed
every epoch (:mod:`bananas_jax.io.checkpoints`), resumed automatically from the workdir.

The DARTS/BANANAS recipe: SGD momentum 0.9, cosine learning rate from 0.025 to 0, weight
decay 3e-4, gradient clipping at norm 5, batch 96, drop-path rising linearly to 0.2,
auxiliary loss weight 0.4, cutout 16. Every random draw comes from ``(seed, epoch, step)``,
so a resumed run gives the same parameters as an uninterrupted one.
"""

import concurrent.futures
import functools
import json
import pathlib
import threading
import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging
from flax import serialization, struct
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from bananas_jax.darts import data as data_lib
from bananas_jax.darts import network
from bananas_jax.io import checkpoints, records, tensorboard
from bananas_jax.spaces import darts as space_lib


class TrainState(struct.PyTreeNode):
  step: jax.Array
  params: Any
  batch_stats: Any
  opt_state: Any


def _decay_chosen(weight_decay):
  """Weight decay on the parameters the architecture uses (``chosen``, an extra argument of
  ``update``): the candidate ops it does not use get no gradient and stay as initialised."""

  def update(updates, state, params, *, chosen, **unused):
    del unused
    decayed = jax.tree.map(lambda u, p, c: u + weight_decay * c * p, updates, params, chosen)
    return decayed, state

  return optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update)


class Recipe(NamedTuple):
  """A training's optimisation settings, given to the compiled step as data: trainings of
  one network share one compilation whatever their settings (a search's trainings of
  different lengths, a proxy and a final training)."""

  learning_rate: float
  momentum: float
  weight_decay: float
  grad_clip: float
  total_steps: int
  auxiliary_weight: float
  cutout: int

  @property
  def optimizer(self):
    # Cosine decay to 0 over total_steps, written out: optax's checks its length in Python.
    schedule = lambda step: self.learning_rate * 0.5 * (
        1 + jnp.cos(jnp.pi * jnp.minimum(step, self.total_steps) / self.total_steps))
    return optax.chain(optax.clip_by_global_norm(self.grad_clip),
                       _decay_chosen(self.weight_decay),
                       optax.sgd(schedule, momentum=self.momentum))


def make_model(config):
  """The network of ``config``'s size; the architecture is an argument of every step."""
  return network.DartsNetwork(config.init_channels, config.layers, config.auxiliary_weight > 0,
                              dtype=jnp.bfloat16 if config.bf16 else jnp.float32,
                              scan_cells=config.scan_cells)


def make_recipe(config, steps_per_epoch):
  return Recipe(config.learning_rate, config.momentum, config.weight_decay, config.grad_clip,
                config.epochs * steps_per_epoch, config.auxiliary_weight, config.cutout)


def init_state(seed, model, recipe):
  """The initial state, drawn on the host from the variables' shapes: nothing is compiled
  (a jitted ``model.init`` compiled one random draw per array: 48 s for the full network on
  a 2-core CPU). The optimizer's state starts at zeros (momentum and step count), made on
  the host too: ``optimizer.init`` ran a small program per array shape, 1.6 s at the full
  size."""
  shapes = state_shapes(model, recipe)
  variables = initial_variables({'params': shapes.params, 'batch_stats': shapes.batch_stats},
                                seed)
  return TrainState(np.zeros((), np.int32), variables['params'], variables['batch_stats'],
                    jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes.opt_state))


def state_shapes(model, recipe):
  """The training state's shapes and dtypes, computed without drawing it."""
  variables = network.variable_shapes(model)
  return TrainState(jax.ShapeDtypeStruct((), jnp.int32), variables['params'],
                    variables['batch_stats'],
                    jax.eval_shape(recipe.optimizer.init, variables['params']))


def initial_variables(shapes, seed):
  """The network's initialisers (Flax's defaults) from a tree of shapes, by leaf name:
  kernels (``kernel``, ``depthwise_<b>``, ``pointwise_<b>``) LeCun normal, truncated at two
  standard deviations, fan-in = all axes but the last and the stacking ones
  (:func:`network.stacked_axes`); ``scale`` and ``var`` ones, ``bias`` and ``mean`` zeros.
  NumPy draws them in the order of the flattened tree from ``seed``."""
  rng = np.random.default_rng(seed)

  def initial(path, shape):
    name = path[-1].key.split('_')[0]
    if name in ('kernel', 'depthwise', 'pointwise'):
      draws = rng.standard_normal(shape.shape)
      outside = np.abs(draws) > 2
      while outside.any():
        draws[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(draws) > 2
      fan_in = int(np.prod(shape.shape[network.stacked_axes(path):-1]))
      return (draws * np.sqrt(1.0 / fan_in) / _TRUNCATED_STD).astype(shape.dtype)
    if name in ('scale', 'var'):
      return np.ones(shape.shape, shape.dtype)
    if name in ('bias', 'mean'):
      return np.zeros(shape.shape, shape.dtype)
    raise ValueError(f'no initialiser for {jax.tree_util.keystr(path)}')

  return jax.tree_util.tree_map_with_path(initial, shapes)


# The standard deviation of a standard normal truncated to [-2, 2] (Flax divides by it).
_TRUNCATED_STD = 0.87962566103423978


def _gradients(state, images, labels, key, drop_rate, arch, model, recipe):
  """The loss's gradient on a batch, the updated BatchNorm statistics and the metrics."""
  aug_key, drop_key = jax.random.split(key)
  x = data_lib.augment(aug_key, images, recipe.cutout).astype(model.dtype)
  cross_entropy = lambda logits: optax.softmax_cross_entropy_with_integer_labels(
      logits, labels).mean()

  def loss_fn(params):
    (logits, aux), updates = model.apply(
        {'params': params, 'batch_stats': state.batch_stats}, x, arch, train=True,
        drop_rate=drop_rate, rngs={'dropout': drop_key}, mutable=['batch_stats'])
    loss = cross_entropy(logits)
    total = loss if aux is None else loss + recipe.auxiliary_weight * cross_entropy(aux)
    return total, (loss, logits, updates['batch_stats'])

  grads, (loss, logits, batch_stats) = jax.grad(loss_fn, has_aux=True)(state.params)
  return grads, batch_stats, {'loss': loss,
                              'correct': jnp.sum(jnp.argmax(logits, -1) == labels)}


def _updated(state, grads, batch_stats, arch, model, recipe):
  """The state after the optimizer's step with ``grads``."""
  chosen = jax.tree.map(lambda c: jnp.asarray(c, jnp.float32),
                        network.chosen(state.params, arch, model.layers))
  updates, opt_state = recipe.optimizer.update(grads, state.opt_state, state.params,
                                               chosen=chosen)
  return TrainState(state.step + 1, optax.apply_updates(state.params, updates), batch_stats,
                    opt_state)


# A training step is two programs, each shared by every architecture (``arch`` is data,
# int32[2, 8, 2]): the gradients, then the update. Apart, they compile at once on two
# threads (Trainer.compile_ahead); the update's 4 s of XLA no longer add to the first step.
gradient_step = jax.jit(_gradients, static_argnames='model')
update_step = jax.jit(_updated, static_argnames='model', donate_argnames='state')


@functools.partial(jax.jit, static_argnames=('arch', 'model'))
def gradient_step_per_genotype(state, images, labels, key, drop_rate, arch, model, recipe):
  """The gradients compiled for one architecture (``arch`` nested tuples, static): the
  program a per-genotype network compiles, kept to measure the shared one against."""
  return _gradients(state, images, labels, key, drop_rate, np.asarray(arch, np.int32), model,
                    recipe)


@functools.partial(jax.jit, static_argnames='model')
def eval_step(state, images, labels, arch, model):
  """Summed loss and correct count; rows labelled -1 are padding and count for nothing."""
  logits, _ = model.apply({'params': state.params, 'batch_stats': state.batch_stats},
                          data_lib.normalize(images).astype(model.dtype), arch)
  real = labels >= 0
  loss = optax.softmax_cross_entropy_with_integer_labels(logits, jnp.maximum(labels, 0))
  return {'loss_sum': jnp.sum(jnp.where(real, loss, 0.0)),
          'correct': jnp.sum((jnp.argmax(logits, -1) == labels) & real)}


class Trainer:
  """The model, its recipe, ``config.genotype`` and the device layout: batches split over a
  1-D mesh of ``devices`` (default: every local device), the state replicated on them.
  Trainers of one network size share the step's compiled programs (the gradients, the
  update), whatever their architectures and recipes; ``per_genotype`` compiles the
  gradients for this architecture instead."""

  def __init__(self, config, steps_per_epoch, devices=None, per_genotype=False):
    self.config = config
    self.model = make_model(config)
    self.recipe = make_recipe(config, steps_per_epoch)
    self.arch = space_lib.DartsSpace().from_string(config.genotype)
    self.per_genotype = per_genotype
    self.devices = list(devices or jax.local_devices())
    mesh = Mesh(np.array(self.devices), ('data',))
    self.batch_sharding = NamedSharding(mesh, P('data'))
    self.replicated = NamedSharding(mesh, P())
    # Data of every step, put on the devices once rather than sent with each step.
    self.arch_on_devices = jax.device_put(self.arch, self.replicated)
    self.recipe_on_devices = jax.device_put(self.recipe, self.replicated)
    self.compiling = {}

  def init(self, seed):
    return jax.device_put(init_state(seed, self.model, self.recipe), self.replicated)

  def shard(self, *arrays):
    return [jax.device_put(a, self.batch_sharding) for a in arrays]

  def compile_ahead(self):
    """Starts compiling the step's two programs, each on a thread of its own, from the
    state's shapes: drawing or restoring the state meanwhile overlaps them, and the first
    ``train_step`` waits for what is left. ``compiling`` holds their futures (each gives
    its seconds: tracing, lowering and XLA's compilation)."""
    shapes = jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype,
                                                         sharding=self.replicated),
                          state_shapes(self.model, self.recipe))
    batch = (np.zeros((self.config.batch_size, 32, 32, 3), np.uint8),
             np.zeros(self.config.batch_size, np.int32), jax.random.key(0), 0.0)

    def compile_program(program, args):
      tick = time.perf_counter()
      program.lower(*args).compile()
      return time.perf_counter() - tick

    pool = concurrent.futures.ThreadPoolExecutor(2)
    self.compiling = {name: pool.submit(compile_program, *call)
                      for name, call in self._calls(shapes, *batch).items()}
    pool.shutdown(wait=False)  # the threads end with their compilations

  def train_step(self, state, images, labels, key, drop_rate):
    """One step, dispatched without waiting for it: the metrics are device arrays."""
    for future in self.compiling.values():
      future.result()  # raises what the compilation raised
    gradients, args = self._calls(state, images, labels, key, drop_rate)['gradients']
    grads, batch_stats, metrics = gradients(*args)
    return update_step(*self._update_args(state, grads, batch_stats)), metrics

  def lower_step(self, state, images, labels, key, drop_rate):
    """The step's programs traced and lowered for XLA (``{'gradients', 'update'}``), not
    compiled: JAX keeps the lowerings, so the first ``train_step`` after it only
    compiles."""
    return {name: program.lower(*args) for name, (program, args) in
            self._calls(state, images, labels, key, drop_rate).items()}

  def _calls(self, state, images, labels, key, drop_rate):
    """``{'gradients', 'update'}``: each program with its arguments; the update is given
    the state's parameters and statistics in place of the gradients' outputs (the same
    shapes)."""
    batch = (*self.shard(images, labels), key, jnp.float32(drop_rate))
    if self.per_genotype:
      static = tuple(tuple(map(tuple, cell)) for cell in self.arch.tolist())
      gradients = gradient_step_per_genotype, (state, *batch, static, self.model,
                                               self.recipe_on_devices)
    else:
      gradients = gradient_step, (state, *batch, self.arch_on_devices, self.model,
                                  self.recipe_on_devices)
    return {'gradients': gradients,
            'update': (update_step, self._update_args(state, state.params, state.batch_stats))}

  def _update_args(self, state, grads, batch_stats):
    return state, grads, batch_stats, self.arch_on_devices, self.model, self.recipe_on_devices

  def evaluate(self, state, images, labels):
    """Loss and accuracy (%) on a whole set, in batches (the last one padded)."""
    size = self.config.eval_batch_size - self.config.eval_batch_size % len(self.devices)
    loss = correct = 0.0
    for start in range(0, len(images), size):
      x, y = images[start:start + size], labels[start:start + size]
      pad = size - len(x)
      x = np.concatenate([x, np.zeros((pad,) + x.shape[1:], x.dtype)])
      y = np.concatenate([y, np.full(pad, -1, y.dtype)])
      out = eval_step(state, *self.shard(x, y), self.arch_on_devices, self.model)
      loss += float(out['loss_sum'])
      correct += float(out['correct'])
    return loss / len(images), 100.0 * correct / len(images)


def use_compilation_cache(directory):
  """Keeps XLA's compiled programs in ``directory`` (process-wide): a resumed or retried
  training, and every worker on the host, loads the training step instead of compiling it."""
  jax.config.update('jax_compilation_cache_dir', str(directory))
  jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)  # every program


def restore_state(workdir, step=None):
  """A training's saved state (the last readable epoch's, or ``step``'s) as nested dicts of
  arrays: ``params`` and ``batch_stats`` to evaluate or export a trained network with
  ``DartsNetwork.apply(variables, images, arch)``, ``opt_state`` and ``step``."""
  directory = pathlib.Path(workdir) / 'checkpoints'
  if step is None:
    step, saved = checkpoints.load_latest(directory)
  else:
    saved = checkpoints.load(checkpoints.path_of(directory, step))
  if saved is None:
    raise FileNotFoundError(f'no readable checkpoint in {directory}')
  return saved['state']


def _check_layout(saved, state, directory):
  """Refuses a checkpoint whose variables are not this network's, naming the difference
  (checkpoints of the per-genotype network have ``Cell_<i>/Op_<j>``, those of the first
  shared one ``cell_<i>/edge_<j>/<op>``, where this one stacks a cell's edges in
  ``cell_<i>/edges/<op>`` and, with ``scan_cells``, a stage's normal cells in
  ``run_<first>_to_<last>``, which held only its identical cells, as ``cells``, up to
  eb4721d)."""
  paths = lambda tree: {jax.tree_util.keystr(p) for p, _ in
                        jax.tree_util.tree_flatten_with_path(tree)[0]}
  ours = paths(serialization.to_state_dict(state)['params'])
  theirs = paths(saved['params'])
  if ours != theirs:
    missing, extra = sorted(ours - theirs), sorted(theirs - ours)
    raise ValueError(
        f'the checkpoints in {directory} hold another network: {len(extra)} parameter arrays '
        f'this network lacks (e.g. {extra[:2]}) and {len(missing)} it has are missing '
        f'(e.g. {missing[:2]}). Checkpoints of earlier layouts (the per-genotype network up '
        f'to commit 0c8793c, one variable per edge up to 445a8bf, scan_cells runs of '
        f'identical cells up to eb4721d) do not restore here; train again in a new workdir')


def _restore_or_init(trainer, config, workdir):
  """``(state, history)``: the last checkpoint's, or a fresh state and no epochs. The step's
  programs compile meanwhile (``Trainer.compile_ahead``), once a checkpoint of another
  network has been refused."""
  _, saved = checkpoints.load_latest(workdir / 'checkpoints')
  shapes = state_shapes(trainer.model, trainer.recipe)
  if saved is not None:
    _check_layout(saved['state'], shapes, workdir / 'checkpoints')
  trainer.compile_ahead()
  if saved is None:
    return trainer.init(config.seed), []
  state = jax.device_put(serialization.from_state_dict(shapes, saved['state']),
                         trainer.replicated)
  history = json.loads(saved['history'])
  logging.info('resumed %s after epoch %d', workdir, len(history))
  return state, history


def _train_epoch(trainer, config, state, epoch, train, valid):
  """One epoch (0-based ``epoch``): ``(state, its record)``. Raises FloatingPointError
  when the loss is no longer finite."""
  (train_x, train_y), (valid_x, valid_y) = train, valid
  steps = len(train_x) // config.batch_size
  root = jax.random.key(config.seed)
  order = np.asarray(jax.random.permutation(jax.random.fold_in(root, 2 * epoch), len(train_x)))
  drop_rate = config.drop_path * epoch / config.epochs
  tick, sums = time.time(), []
  for i in range(steps):  # dispatched ahead: no step waits for the one before
    batch = order[i * config.batch_size:(i + 1) * config.batch_size]
    key = jax.random.fold_in(jax.random.fold_in(root, 2 * epoch + 1), i)
    state, metrics = trainer.train_step(state, train_x[batch], train_y[batch], key, drop_rate)
    sums.append(metrics)
  loss = sum(float(m['loss']) for m in sums)
  correct = sum(int(m['correct']) for m in sums)
  seconds = time.time() - tick
  if not np.isfinite(loss):
    raise FloatingPointError(f'training of {config.genotype} in {config.workdir} diverged: '
                             f'loss {loss / steps} in epoch {epoch + 1}')
  record = {'epoch': epoch + 1, 'train_loss': loss / steps,
            'train_accuracy': 100.0 * correct / (steps * config.batch_size),
            'images_per_s': steps * config.batch_size / seconds, 'seconds': seconds}
  if len(valid_x):
    record['valid_loss'], record['valid_accuracy'] = trainer.evaluate(state, valid_x, valid_y)
  return state, record


def _summary(trainer, config, state, history, dataset):
  """What a training reports: its epochs' records and, once finished, the search proxy's
  target and the test metrics (``config.test``)."""
  summary = {'genotype': config.genotype, 'epochs': config.epochs, 'history': history,
             'finished': len(history) == config.epochs}
  if summary['finished'] and history and 'valid_accuracy' in history[-1]:
    last = [100.0 - h['valid_accuracy'] for h in history[-5:]]
    summary['valid_error_last5'] = float(np.mean(last))  # the search proxy's target
  if summary['finished'] and config.test:
    summary['test_loss'], summary['test_accuracy'] = trainer.evaluate(state, *dataset['test'])
  return summary


def train(config, dataset=None, until_epoch=None, devices=None):
  """Trains (or resumes) ``config.genotype``; returns its summary (``finished`` says whether
  every epoch ran), written atomically to ``<workdir>/final.json`` once finished: that file
  existing means the training finished. ``until_epoch`` stops early after that epoch, as a
  preemption would; running again resumes from the last checkpoint. A loss that stops
  being finite raises FloatingPointError before anything of that epoch is saved.
  ``devices`` (default: every local device) share each batch; ``<workdir>/progress.json``
  tells the epochs done."""
  devices = list(devices or jax.local_devices())
  if config.batch_size % len(devices):
    raise ValueError(f'batch_size {config.batch_size} must be a multiple of the '
                     f'{len(devices)} devices it is split over')
  dataset = dataset or data_lib.load_cifar10(config.data_dir)
  train_set, valid_set = data_lib.split(*dataset['train'], config.train_portion)
  steps_per_epoch = len(train_set[0]) // config.batch_size
  if steps_per_epoch == 0:
    raise ValueError(f'batch_size {config.batch_size} exceeds the {len(train_set[0])} '
                     f'training images')
  trainer = Trainer(config, steps_per_epoch, devices)
  workdir = pathlib.Path(config.workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  state, history = _restore_or_init(trainer, config, workdir)
  last = config.epochs if until_epoch is None else min(until_epoch, config.epochs)
  writer = tensorboard.EventWriter(workdir / 'tensorboard')
  try:
    for epoch in range(len(history), last):
      state, record = _train_epoch(trainer, config, state, epoch, train_set, valid_set)
      history.append(record)
      checkpoints.save(workdir / 'checkpoints', epoch + 1,
                       {'state': state, 'history': json.dumps(history)})
      records.write_json(workdir / 'progress.json', {**record, 'epochs': config.epochs})
      for name, value in record.items():
        writer.scalar(name, value, epoch + 1)
      writer.flush()
      logging.info('%s', ' '.join(f'{k} {v:.4g}' for k, v in record.items()))
  finally:
    writer.close()
  summary = _summary(trainer, config, state, history, dataset)
  if summary['finished']:
    records.write_json(workdir / 'final.json', summary)
  return summary


def proxy_query_fn(train_config, data_dir):
  """The ``query_fn`` of :mod:`bananas_jax.stepwise` for DARTS: trains (or resumes) one
  genotype with ``train_config`` (the search proxy) on the given devices and returns its
  target, the mean validation error of the last 5 epochs, with its throughput. A training
  whose ``final.json`` exists (finished before a restart, or by another worker) is read,
  not run. CIFAR-10 is read once, on first use, by whichever thread gets there first."""
  loaded, lock = {}, threading.Lock()

  def query_fn(genotype, workdir, devices=None):
    final_path = pathlib.Path(workdir) / 'final.json'
    if final_path.exists():
      final = records.read_json(final_path)
    else:
      with lock:
        if 'cifar10' not in loaded:
          loaded['cifar10'] = data_lib.load_cifar10(data_dir)
      config = train_config.copy_and_resolve_references()
      config.genotype, config.workdir = genotype, str(workdir)
      final = train(config, loaded['cifar10'], devices=devices)
    return {'val_error': final['valid_error_last5'],
            'images_per_s': float(np.median([h['images_per_s'] for h in final['history']]))}

  return query_fn
