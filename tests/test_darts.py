"""The DARTS space, network, CIFAR-10 input and training, on tiny settings."""

import concurrent.futures
import functools
import io
import json
import pickle
import subprocess
import sys
import tarfile

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bananas_jax import stepwise
from bananas_jax.configs import darts_search as darts_search_config
from bananas_jax.configs import darts_train
from bananas_jax.darts import count_params, data, network, train
from bananas_jax.io import checkpoints
from bananas_jax.spaces import darts as darts_space

SPACE = darts_space.DartsSpace()


# ---- space ------------------------------------------------------------------------------

def test_named_genotypes_round_trip():
  for name, genotype in darts_space.GENOTYPES.items():
    arch = SPACE.from_string(name)
    assert SPACE.to_genotype(arch) == genotype
    assert (SPACE.from_string(SPACE.to_string(arch)) == arch).all()
  official = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
              "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
              "('dil_conv_3x3', 2)], normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), "
              "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
              "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], "
              "reduce_concat=range(2, 6))")
  assert (SPACE.from_string(official) == SPACE.from_string('DARTS_V2')).all()


@pytest.mark.parametrize('text, message', [
    ('NASNET', 'malformed DARTS genotype'),
    ("Genotype(normal=[('conv_7x7', 0)] * 8, reduce=[])", 'malformed DARTS genotype'),
    ("Genotype(normal=[('conv_7x7', 0)] + [('none', 1)] * 7, reduce=[('none', 0)] * 8)",
     'malformed DARTS genotype'),
])
def test_bad_genotype_text(text, message):
  with pytest.raises(ValueError, match=message):
    SPACE.from_string(text)


def test_bad_genotypes():
  good = darts_space.GENOTYPES['BANANAS']
  with pytest.raises(ValueError, match="unknown DARTS op 'conv_7x7'; accepted: none"):
    SPACE.from_genotype({**good, 'normal': [('conv_7x7', 0)] + good['normal'][1:]})
  with pytest.raises(ValueError, match='invalid DARTS genotype'):  # node 0 reads node 0 twice
    SPACE.from_genotype({**good, 'normal': [('none', 0), ('none', 0)] + good['normal'][2:]})
  with pytest.raises(ValueError, match='has 8 \\(op, input\\) pairs, got 2'):
    SPACE.from_genotype({**good, 'reduce': good['reduce'][:2]})


def reference_valid(arch):
  return all(arch[c, j, 0] < j // 2 + 2 and 0 <= arch[c, j, 1] < 8 for c in range(2)
             for j in range(8)) and all(arch[c, 2 * n, 0] != arch[c, 2 * n + 1, 0]
                                        for c in range(2) for n in range(4))


def test_sampling_and_mutation_are_valid_single_edits():
  archs = jax.jit(SPACE.sample, static_argnums=1)(jax.random.key(0), 500)
  assert all(reference_valid(a) for a in np.asarray(archs))
  ops = np.asarray(archs)[..., 1]
  assert abs(np.mean(ops == 0) - 1 / 8) < 0.02  # ops uniform over the 8
  children = np.asarray(jax.jit(SPACE.mutate)(jax.random.key(1), archs))
  assert all(reference_valid(a) for a in children)
  assert ((children != np.asarray(archs)).sum(axis=(1, 2, 3)) == 1).all()
  nbrs = np.asarray(SPACE.neighbours(archs[0]))
  assert ((nbrs != np.asarray(archs[0])).sum(axis=(1, 2, 3)) == 1).all()
  assert len(nbrs) == 2 * (8 * 7 + sum(j // 2 + 1 for j in range(8)))


def test_canonical_key_ignores_pair_order_within_a_node():
  archs = np.asarray(SPACE.sample(jax.random.key(2), 1000))
  swapped = archs.copy()
  swapped[:, :, [0, 1]] = archs[:, :, [1, 0]]
  np.testing.assert_array_equal(SPACE.canonical_key(swapped), SPACE.canonical_key(archs))
  keys = np.asarray(SPACE.canonical_key(archs))
  canon = np.asarray(SPACE.canonical(archs)).reshape(1000, -1)
  assert len(set(keys)) == len({tuple(c) for c in canon})  # no collision among these


def reference_path_indices(arch):
  """DFS from each input node over the pairs that read it; length-major indices."""
  found = set()
  block_size = [4 * sum(8**k for k in range(n)) for n in range(5)]

  def walk(cell, start, node, ops):
    for j in range(8):
      if arch[cell, j, 0] == node:
        seq = [*ops, int(arch[cell, j, 1])]
        code = sum(op * 8**i for i, op in enumerate(seq))
        found.add(block_size[len(seq)] + (2 * cell + start) * 8**len(seq) + code)
        walk(cell, start, j // 2 + 2, seq)

  for cell in range(2):
    for start in range(2):
      walk(cell, start, start, [])
  return found


def test_path_encoding_matches_a_dfs():
  archs = np.concatenate([np.asarray(SPACE.sample(jax.random.key(3), 60)),
                          np.stack([SPACE.from_string(n) for n in darts_space.GENOTYPES])])
  paths = np.asarray(jax.jit(lambda a: SPACE.encode(a, 'path'))(archs))
  assert paths.shape == (62, 18724)
  for arch, path in zip(archs, paths):
    assert set(np.flatnonzero(path)) == reference_path_indices(arch)
  assert SPACE.encode(archs).shape == (62, 100)
  adjacency = np.asarray(SPACE.encode(archs, 'adjacency'))
  assert adjacency.shape == (62, 208) and (adjacency.sum(axis=1) == 32).all()


# ---- network ------------------------------------------------------------------------------

def test_parameter_counts_match_the_papers():
  assert count_params('DARTS_V2', 36, 20) == 3_349_342  # the DARTS paper's 3.3M
  assert count_params('BANANAS', 36, 20) == 3_583_054  # BANANAS: about 3.6M
  assert count_params('DARTS_V2', 36, 20, auxiliary=True) > 3_349_342


@pytest.mark.parametrize('kernel, stride, dilation', [(3, 1, 1), (5, 2, 1), (3, 2, 2), (5, 1, 2)])
def test_depthwise_conv_and_its_gradient_equal_xla_convolution(kernel, stride, dilation):
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(3, 16, 16, 4)), jnp.float32)
  w = jnp.asarray(rng.normal(size=(kernel, kernel, 1, 4)), jnp.float32)
  pad = dilation * (kernel - 1) // 2

  def reference(x, w):
    return jax.lax.conv_general_dilated(x, w, (stride, stride), [(pad, pad)] * 2,
                                        rhs_dilation=(dilation, dilation),
                                        dimension_numbers=('NHWC', 'HWIO', 'NHWC'),
                                        feature_group_count=4)

  ours = lambda x, w: network._depthwise(x, w, stride, dilation)
  cotangent = jnp.asarray(rng.normal(size=reference(x, w).shape), jnp.float32)
  np.testing.assert_allclose(ours(x, w), reference(x, w), atol=1e-5)
  grads = [jax.grad(lambda x, w: jnp.sum(f(x, w) * cotangent), argnums=(0, 1))(x, w)
           for f in (ours, reference)]
  for a, b in zip(*grads):
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_initial_variables_follow_flax_initialisers():
  model = network.DartsNetwork(16, 1)  # one (reduction) cell: every kind of variable
  arch = SPACE.from_string('BANANAS')
  flax_init = jax.jit(lambda key: model.init(key, jnp.zeros((1, 32, 32, 3)), arch))(
      jax.random.key(0))
  ours = train.initial_variables(jax.eval_shape(lambda: flax_init), seed=0)
  assert jax.tree.structure(ours) == jax.tree.structure(flax_init)
  for path, a in jax.tree_util.tree_flatten_with_path(ours)[0]:
    b = flax_init
    for key in path:
      b = b[key.key]
    b = np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    if np.all(b == b.flat[0]):  # constants (BatchNorm, biases) exactly
      np.testing.assert_array_equal(a, b)
    elif a.size >= 250:  # LeCun normal: the same spread (4% sampling error at 250 draws)
      assert abs(np.std(a) / np.std(b) - 1) < 0.2, jax.tree_util.keystr(path)


def test_the_initial_optimizer_state_is_the_optimizers_own(tmp_path):
  """``init_state`` makes the optimizer's state on the host, as zeros: the recipe's
  optimizer starts there (momentum and step count)."""
  model = network.DartsNetwork(4, 1)
  recipe = train.make_recipe(tiny_config(tmp_path), steps_per_epoch=10)
  state = train.init_state(0, model, recipe)
  expected = recipe.optimizer.init(state.params)
  assert jax.tree.structure(state.opt_state) == jax.tree.structure(expected)
  for ours, theirs in zip(jax.tree.leaves(state.opt_state), jax.tree.leaves(expected)):
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize('dtype', [jnp.float32, jnp.bfloat16])
def test_network_output_shapes(dtype):
  """bfloat16 too: every op an edge may be gives its input's dtype (a switch needs one),
  and the gradient (the edge scan's is written out) has the parameters' shapes and dtypes."""
  model = network.DartsNetwork(init_channels=8, layers=3, dtype=dtype)
  x = jnp.ones((2, 32, 32, 3))
  arch = jnp.asarray(SPACE.from_string('BANANAS'))
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), x, np.asarray(arch)))
  train_apply = lambda params, stats: model.apply(
      {'params': params, 'batch_stats': stats}, x, arch, train=True, drop_rate=0.5,
      rngs={'dropout': jax.random.key(1)}, mutable=['batch_stats'])
  (logits, aux), _ = jax.eval_shape(train_apply, variables['params'], variables['batch_stats'])
  assert logits.shape == (2, 10) and aux.shape == (2, 10) and logits.dtype == jnp.float32
  eval_logits, eval_aux = jax.eval_shape(lambda v: model.apply(v, x, arch), variables)
  assert eval_logits.shape == (2, 10)
  grads = jax.eval_shape(jax.grad(lambda *v: jnp.sum(train_apply(*v)[0][0])),
                         variables['params'], variables['batch_stats'])
  assert jax.tree.map(lambda g: (g.shape, g.dtype), grads) == jax.tree.map(
      lambda p: (p.shape, p.dtype), variables['params'])


def test_drop_path_zeroes_whole_examples_and_rescales():
  x = jnp.ones((1000, 2, 2, 3))
  y = np.asarray(network.drop_path(jax.random.key(0), x, 0.5))
  per_example = y.reshape(1000, -1)
  assert set(np.unique(per_example)) == {0.0, 2.0}
  assert (per_example.min(axis=1) == per_example.max(axis=1)).all()
  assert 0.45 < (per_example[:, 0] == 0).mean() < 0.55


# ---- data -----------------------------------------------------------------------------------

def write_fake_cifar(path, per_batch=40, archive=True):
  """A CIFAR-10 python-version archive (or folder) with ``per_batch`` images per file."""
  rng = np.random.default_rng(0)
  files = {}
  for name in data.TRAIN_FILES + (data.TEST_FILE,):
    labels = rng.integers(0, 10, per_batch)
    images = np.zeros((per_batch, 3, 32, 32), np.uint8) + (labels * 25)[:, None, None, None]
    images = images + rng.integers(0, 20, images.shape).astype(np.uint8)
    files[name] = pickle.dumps({b'data': images.reshape(per_batch, -1),
                                b'labels': labels.tolist()})
  if archive:
    with tarfile.open(path, 'w:gz') as tar:
      for name, blob in files.items():
        info = tarfile.TarInfo(f'{data.FOLDER}/{name}')
        info.size = len(blob)
        tar.addfile(info, io.BytesIO(blob))
  else:
    (path / data.FOLDER).mkdir(parents=True)
    for name, blob in files.items():
      (path / data.FOLDER / name).write_bytes(blob)
  return path


def test_cifar_from_archive_and_folder(tmp_path):
  archive = write_fake_cifar(tmp_path / data.ARCHIVE)
  from_archive = data.load_cifar10(tmp_path)  # the folder holding the archive
  from_folder = data.load_cifar10(write_fake_cifar(tmp_path / 'extracted', archive=False))
  assert from_archive['train'][0].shape == (200, 32, 32, 3)
  assert from_archive['test'][0].shape == (40, 32, 32, 3)
  for part in ('train', 'test'):
    for a, b in zip(from_archive[part], from_folder[part]):
      np.testing.assert_array_equal(a, b)
  np.testing.assert_array_equal(data.load_cifar10(archive)['test'][1], from_folder['test'][1])
  (train_x, _), (valid_x, _) = data.split(*from_archive['train'], 0.7)
  assert (len(train_x), len(valid_x)) == (140, 60)


def test_cifar_errors(tmp_path):
  with pytest.raises(FileNotFoundError, match='needs data_batch_1.*cifar-10-python.tar.gz'):
    data.load_cifar10(tmp_path)
  folder = write_fake_cifar(tmp_path / 'bad', archive=False) / data.FOLDER
  (folder / 'data_batch_3').write_bytes(b'not a pickle')
  with pytest.raises(ValueError, match='data_batch_3 is not a CIFAR-10 python batch'):
    data.load_cifar10(folder)
  with pytest.raises(ValueError, match='train_portion must be in \\(0, 1\\], got 1.5'):
    data.split(np.zeros(4), np.zeros(4), 1.5)


def test_augmentation():
  images = np.full((64, 32, 32, 3), 200, np.uint8)
  out = np.asarray(jax.jit(data.augment)(jax.random.key(0), images))
  assert out.shape == (64, 32, 32, 3) and out.dtype == np.float32
  value = data.normalize(np.full((1, 1, 1, 3), 200, np.uint8))[0, 0, 0]
  kept = np.isclose(out, value).all(axis=-1)
  zero = (out == 0).all(axis=-1)  # cutout, or the crop's zero padding (normalized 0 is not 0)
  assert (kept | zero).all()
  assert 100 < zero.sum(axis=(1, 2)).mean() < 16 * 16 + 8 * 32
  # The size may be data (one compiled program for every recipe): 0 cuts nothing, so only
  # the crop's padding is zero.
  sized = jax.jit(lambda cutout: data.augment(jax.random.key(0), images, cutout))
  padding = (np.asarray(sized(0)) == 0).all(axis=-1).sum(axis=(1, 2))
  assert padding.max() <= 8 * 32 and (zero.sum(axis=(1, 2)) >= padding).all()
  np.testing.assert_allclose(sized(16), out, rtol=1e-6)  # fused apart: float32 rounding


# ---- training ---------------------------------------------------------------------------------

def tiny_config(tmp_path, **changes):
  config = darts_train.get_config('proxy')
  config.update(layers=2, init_channels=4, batch_size=16, eval_batch_size=64, epochs=2,
                auxiliary_weight=0.0, workdir=str(tmp_path / 'train'), genotype='BANANAS')
  config.update(changes)
  return config


def fake_dataset(num=64):
  rng = np.random.default_rng(1)
  labels = rng.integers(0, 10, num).astype(np.int32)
  images = (np.zeros((num, 32, 32, 3)) + labels[:, None, None, None] * 25 +
            rng.integers(0, 10, (num, 32, 32, 3))).astype(np.uint8)
  return {'train': (images, labels), 'test': (images[:32], labels[:32])}


def test_loss_goes_down(tmp_path):
  config = tiny_config(tmp_path, learning_rate=0.1, cutout=0, drop_path=0.0, layers=1,
                       init_channels=2)
  dataset = fake_dataset(32)
  trainer = train.Trainer(config, steps_per_epoch=100)
  state = trainer.init(0)
  images, labels = dataset['train'][0][:16], dataset['train'][1][:16]
  losses = []
  for step in range(30):
    state, metrics = trainer.train_step(state, images, labels, jax.random.key(step), 0.0)
    losses.append(float(metrics['loss']))
  assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])


@pytest.mark.slow
def test_one_program_trains_every_architecture(tmp_path):
  """Architectures trained one after another, with other recipes (learning rate, length),
  share the step's two programs, compiled once (counted by jax.monitoring's compile events;
  the programs compiled ahead, on threads, are the ones the steps run); the first one's losses over
  3 steps, and its parameters and statistics after the first, equal those of the program
  compiled for it alone (same arithmetic, fused differently by XLA: float32 rounding, 1e-5
  relative and 1e-3 of the step's change; later steps of a small deep network amplify it).
  The parameters of the ops an architecture does not use stay as initialised (no gradient,
  no weight decay). Three cells: a normal cell (edges as a scan over every node) and
  reduction cells (inputs at stride 2)."""
  config = tiny_config(tmp_path, layers=3, init_channels=4, auxiliary_weight=0.4)
  images, labels = (a[:16] for a in fake_dataset(16)['train'])
  compiled = []
  count = lambda event, seconds, fun_name='': compiled.append(fun_name) if (
      event == '/jax/core/compile/backend_compile_duration') else None
  jax.monitoring.register_event_duration_secs_listener(count)
  states = {}
  for i, arch in enumerate(np.asarray(SPACE.sample(jax.random.key(7), 2))):
    config.genotype, config.learning_rate = SPACE.to_string(arch), 0.025 * (i + 1)
    for per_genotype in (False, True) if i == 0 else (False,):
      trainer = train.Trainer(config, steps_per_epoch=10 + i, per_genotype=per_genotype)
      if i == 1:
        trainer.compile_ahead()
      initial = trainer.init(0)
      state = trainer.init(0)
      losses = []
      for step in range(3):
        state, metrics = trainer.train_step(state, images, labels, jax.random.key(step), 0.2)
        losses.append(float(metrics['loss']))
        first = first if step else jax.tree.map(np.asarray, state)  # the next step donates it
      states[per_genotype] = (losses, first, initial)
      used = network.chosen(state.params, arch, config.layers)
      for (path, new), old, keep in zip(jax.tree_util.tree_flatten_with_path(state.params)[0],
                                        *map(jax.tree.leaves, (initial.params, used))):
        per_copy = new.shape[:network.stacked_axes(path)] + (-1,)  # an edge's, a cell's
        keep = np.broadcast_to(keep, new.shape).reshape(per_copy)[..., 0]
        np.testing.assert_array_equal(np.any((new != old).reshape(per_copy), axis=-1), keep)
    if i == 0:
      (losses_a, a, initial), (losses_b, b, _) = states[False], states[True]
      np.testing.assert_allclose(losses_a, losses_b, rtol=1e-5)
      variables = lambda s: (s.params, s.batch_stats)
      for (path, x), y, x0 in zip(jax.tree_util.tree_flatten_with_path(variables(a))[0],
                                  *map(jax.tree.leaves, (variables(b), variables(initial)))):
        change = np.abs(np.asarray(x) - np.asarray(x0)).max()
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=max(1e-3 * change, 1e-7),
                                   err_msg=jax.tree_util.keystr(path))
  jax.monitoring.unregister_event_duration_listener(count)
  assert sorted(name for name in compiled if 'gradient' in name or 'updated' in name) == [
      'jit(_gradients)', 'jit(_updated)', 'jit(gradient_step_per_genotype)']


@pytest.mark.slow
@pytest.mark.parametrize('layers', [10, 4])
def test_scanned_cells_compute_what_separate_cells_do(layers):
  """``scan_cells`` runs a stage's normal cells as one scan over their variables stacked:
  the same function of the same variables as the cells one by one (training-mode output
  and BatchNorm statistics), with the inputs its scan cannot carry preprocessed before it;
  at 10 cells every stage, at 4 adjacent reductions and one-cell runs. Their initial
  values are drawn with each cell's own fan-in."""
  arch = jnp.asarray(SPACE.from_string('BANANAS'))
  x = jax.random.normal(jax.random.key(0), (4, 32, 32, 3))
  separate, scanned = (network.DartsNetwork(4, layers, auxiliary=False, scan_cells=scan)
                       for scan in (False, True))
  reductions = network.reduction_cells(layers)
  runs = [run for run in network.cell_runs(layers) if run[0] not in reductions]
  assert runs == {10: [(0, 2), (4, 5), (7, 9)], 4: [(0, 0), (3, 3)]}[layers]

  def name(i, k):  # of cell i's input k preprocessing (a factorized reduce after a reduction)
    if i - 1 in reductions:
      return 'FactorizedReduce_0' if k == 0 else 'ReLUConvBN_0'
    return f'ReLUConvBN_{k}'

  def stacked(tree):
    """The separate cells' variables in the scanned network's layout."""
    tree, stack = dict(tree), lambda *c: jax.tree.map(lambda *a: np.stack(a), *c)
    for first, last in runs:
      cells = {i: tree.pop(f'cell_{i}') for i in range(first, last + 1)}
      given = network.run_entries(first, last)
      tree[f'run_{first}_to_{last}'] = {
          'edges': stack(*[cell['edges'] for cell in cells.values()]),
          **{f'inputs_{k}': stack(*regular) for k in (0, 1)
             if (regular := [cell[name(i, k)] for i, cell in cells.items()
                             if k not in given.get(i, ())])}}
      for i, numbers in given.items():
        tree[f'cell_{i}'] = {name(i, k): cells[i][name(i, k)] for k in numbers}
    return tree

  variables = train.initial_variables(network.variable_shapes(separate), seed=0)
  restacked = {kind: stacked(tree) for kind, tree in variables.items()}
  drawn = train.initial_variables(network.variable_shapes(scanned), seed=0)
  assert jax.tree.structure(restacked) == jax.tree.structure(drawn)
  last = 'run_{}_to_{}'.format(*runs[-1])
  for a, b in zip(*(jax.tree.leaves(v['params'][last]) for v in (restacked, drawn))):
    assert a.shape == b.shape and (np.std(a) == np.std(b) == 0 or
                                   abs(np.std(b) / np.std(a) - 1) < 0.2)
  outputs = [jax.jit(lambda v, model=model: model.apply(
      v, x, arch, train=True, drop_rate=0.0, rngs={'dropout': jax.random.key(1)},
      mutable=['batch_stats']))(v) for model, v in ((separate, variables), (scanned, restacked))]
  ((logits_a, _), updates_a), ((logits_b, _), updates_b) = outputs
  np.testing.assert_allclose(logits_a, logits_b, rtol=1e-5, atol=1e-5)
  for a, b in zip(jax.tree.leaves(stacked(updates_a['batch_stats'])),
                  jax.tree.leaves(updates_b['batch_stats'])):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.fixture(autouse=True, scope='module')
def drop_compiled_programs():
  """The networks' compiled programs are large: free them for the worker's next tests."""
  yield
  jax.clear_caches()
  network.variable_shapes.cache_clear()


def test_checkpoints_of_another_network_are_refused_and_kept(tmp_path):
  """A checkpoint of the per-genotype network (before the architecture became data) is
  refused with the difference named; the file is left as it was."""
  config = tiny_config(tmp_path, layers=1, init_channels=2, epochs=1)
  directory = tmp_path / 'train' / 'checkpoints'
  old_params = {'Cell_0': {'Op_0': {'SepConv_0': {'kernel': np.zeros((3, 3, 1, 2))}}}}
  checkpoints.save(directory, 1, {'state': {'step': 1, 'params': old_params, 'batch_stats': {},
                                            'opt_state': {}}, 'history': '[]'})
  written = checkpoints.path_of(directory, 1).read_bytes()
  with pytest.raises(ValueError, match=r"hold another network: 1 parameter arrays this network "
                                       r"lacks \(e.g. \[\"\['Cell_0'\]\['Op_0'\]"):
    train.train(config, fake_dataset())
  assert checkpoints.path_of(directory, 1).read_bytes() == written


def test_compiled_programs_are_reused_from_the_cache_directory(tmp_path):
  """A second process (a resumed or retried training, another worker) loads what the
  first compiled from the cache directory instead of compiling it."""
  code = ('import jax, jax.numpy as jnp\n'
          'from bananas_jax.darts import train\n'
          'hits = []\n'
          'jax.monitoring.register_event_listener(\n'
          '    lambda event, **kw: hits.append(event == "/jax/compilation_cache/cache_hits"))\n'
          f'train.use_compilation_cache({str(tmp_path / "xla_cache")!r})\n'
          'jax.jit(lambda x: jnp.sin(x) * 2)(jnp.ones(3)).block_until_ready()\n'
          'print(sum(hits))\n')
  runs = [subprocess.run([sys.executable, '-c', code], check=True, capture_output=True,
                         text=True).stdout.split()[-1] for _ in range(2)]
  assert runs[0] == '0' and int(runs[1]) > 0  # every program of the script, the second time
  assert any((tmp_path / 'xla_cache').iterdir())


@pytest.mark.slow
def test_resumed_training_equals_uninterrupted(tmp_path, caplog):
  dataset = fake_dataset()
  whole = tiny_config(tmp_path / 'whole', test=True, epochs=3, layers=1, init_channels=2)
  final = train.train(whole, dataset)
  assert len(final['history']) == 3 and 'valid_error_last5' in final and 'test_accuracy' in final
  cut = tiny_config(tmp_path / 'cut', test=True, epochs=3, layers=1, init_channels=2)
  stopped = train.train(cut, dataset, until_epoch=2)
  assert not stopped['finished'] and len(stopped['history']) == 2
  assert 'valid_error_last5' not in stopped
  assert not (tmp_path / 'cut' / 'train' / 'final.json').exists()
  damaged = checkpoints.path_of(tmp_path / 'cut' / 'train' / 'checkpoints', 2)
  damaged.write_bytes(damaged.read_bytes()[:-100])  # a save cut short: resume from epoch 1
  with caplog.at_level('WARNING'):
    resumed = train.train(cut, dataset)
  assert f'skipping checkpoint {damaged}, which cannot be read' in caplog.text
  same = ('epoch', 'train_loss', 'train_accuracy', 'valid_loss', 'valid_accuracy')
  assert [{k: h[k] for k in same} for h in resumed['history']] == \
         [{k: h[k] for k in same} for h in final['history']]
  assert resumed['test_accuracy'] == final['test_accuracy']
  a, b = train.restore_state(whole.workdir), train.restore_state(cut.workdir)
  for x, y in zip(jax.tree.leaves(a['params']), jax.tree.leaves(b['params'])):
    np.testing.assert_array_equal(x, y)


@pytest.mark.slow
def test_concurrent_trainings_under_load_never_interfere(tmp_path):
  """Eight tiny trainings at once over the two CPU devices (more than a search step runs),
  each checkpointing every epoch, two rounds, beside a process that keeps a core busy.
  Every training finishes with its own files, and trainings of the same genotype on the same
  device agree to the last bit, within a round and across rounds: nothing of one training
  reaches another. Orbax's asynchronous saves failed here (FileExistsError, 'Directory not
  empty', timed-out saves)."""
  pair = [SPACE.to_string(a) for a in np.asarray(SPACE.sample(jax.random.key(5), 2))]
  devices = jax.local_devices()
  dataset = fake_dataset(40)

  def training(round_, j):  # j and j + 4 share a device and a genotype
    config = tiny_config(tmp_path / f'{round_}_{j}', layers=1, init_channels=2, epochs=3,
                         genotype=pair[j // 2 % 2])
    return train.train(config, dataset, devices=[devices[j % 2]])

  busy = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
  try:
    outcomes = []
    for round_ in range(2):
      with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes.append(list(pool.map(functools.partial(training, round_), range(8))))
  finally:
    busy.kill()
  metrics = lambda final: [{k: v for k, v in h.items() if k not in ('seconds', 'images_per_s')}
                           for h in final['history']]
  first = outcomes[0]
  for round_, finals in enumerate(outcomes):
    for j, final in enumerate(finals):
      workdir = tmp_path / f'{round_}_{j}' / 'train'
      assert final['genotype'] == pair[j // 2 % 2]
      assert json.loads((workdir / 'final.json').read_text()) == final
      assert checkpoints.steps(workdir / 'checkpoints') == [2, 3]
      assert metrics(final) == metrics(first[j % 4])
      for x, y in zip(jax.tree.leaves(train.restore_state(workdir)['params']),
                      jax.tree.leaves(train.restore_state(tmp_path / f'0_{j % 4}' / 'train')
                                      ['params'])):
        np.testing.assert_array_equal(x, y)


# ---- BANANAS over real trainings ----------------------------------------------------------------

@pytest.mark.slow
def test_search_over_proxy_trainings_killed_and_resumed(tmp_path):
  config = darts_search_config.get_config()
  config.total_queries = 3
  config.bananas.update(num_init=2, k=1, predictor=dict(epochs=5, num_ensemble=2))
  config.train.update(layers=1, init_channels=2, batch_size=16, eval_batch_size=64, epochs=1,
                      auxiliary_weight=0.0)  # a one-cell network: few compilations stay short
  config.data_dir = str(write_fake_cifar(tmp_path / data.ARCHIVE, per_batch=16))
  config.workdir = str(tmp_path / 'search')
  real = train.proxy_query_fn(config.train, config.data_dir)
  calls = []

  def dies_on_the_third_training(genotype, workdir, devices):
    calls.append(genotype)
    if len(calls) == 3:  # the training of the second step
      raise KeyboardInterrupt
    return real(genotype, workdir, devices)

  with pytest.raises(KeyboardInterrupt):
    stepwise.run_stepwise(config, dies_on_the_third_training)
  found = stepwise.run_stepwise(config, dies_on_the_third_training)
  # Only the second step's training ran again, once: in the resumed run, or already in the
  # first run's other worker thread, which Optuna lets finish after the interrupt.
  assert len(calls) == 4 and calls[3] == calls[2]
  assert [(r['step'], r['index']) for r in found] == [(0, 0), (0, 1), (1, 0)]
  first, second = found[:2]  # the random step's two trainings, one per CPU device, at once
  assert first['devices'] != second['devices'] and len(first['devices']) == 1
  assert max(first['start'], second['start']) < min(first['end'], second['end'])
  assert all(r['images_per_s'] > 0 for r in found)
  genotypes = [r['arch'] for r in found]
  assert len(set(genotypes)) == 3 and all(SPACE.from_string(g) is not None for g in genotypes)
  assert all(0 <= r['val_error'] <= 100 for r in found)
  final = tmp_path / 'search' / 'trainings' / '0' / 'final.json'
  assert json.loads(final.read_text())['valid_error_last5'] == found[0]['val_error']
  again = real(genotypes[0], final.parent)  # read back, not retrained
  assert again['val_error'] == found[0]['val_error']
  # On one device, alone, the same training gives the same number.
  alone = train.proxy_query_fn(config.train, config.data_dir)(
      genotypes[1], tmp_path / 'alone', devices=[jax.local_devices()[0]])
  assert alone['val_error'] == found[1]['val_error']


def test_a_diverging_training_raises_before_saving(tmp_path):
  config = tiny_config(tmp_path, learning_rate=1e38, epochs=1, layers=1, init_channels=2)
  with pytest.raises(FloatingPointError, match='diverged: loss nan in epoch 1'):
    train.train(config, fake_dataset())
  assert not (tmp_path / 'train' / 'final.json').exists()
  assert not (tmp_path / 'train' / 'progress.json').exists()
