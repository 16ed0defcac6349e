"""Features of every NAS-Bench-201 cell that cost no training: parameters, FLOPs, synflow.

They come from this project's Flax model of the network NAS-Bench-201 trained
(:func:`network`): a 3x3 convolution stem of 16 channels with BatchNorm; three stages of
five cells at 16, 32 and 64 channels, joined by residual reduction blocks (ReLU-conv-BN 3x3
at stride 2, then ReLU-conv-BN 3x3, beside a shortcut of 2x2 average pooling and a 1x1
convolution); BatchNorm, ReLU, global average pooling and a linear classifier. In a cell,
node ``j`` is the sum over ``i < j`` of edge ``(i, j)``'s op applied to node ``i``; node 3 is
the output. Per dataset (10, 100, 120 classes; 32x32 images, 16x16 for ImageNet16-120):

* ``params``: trainable parameters (convolution kernels, BatchNorm scales and biases, the
  classifier), millions. They equal the embedded table's counts for 15,421 of the 15,625
  cells on all three datasets. The other 204 differ by one amount on every dataset
  (+-0.0093 to +-0.162 M) to counts this network gives no cell: the table's values for
  those rows (its sizes come from a public copy, not checked here against the official
  API, which is not installed; tests/test_nasbench201_features.py).
* ``flops``: multiply-accumulates of the convolutions and the classifier for one image,
  millions.
* ``synflow``: the sum over parameters of ``|theta * dR/dtheta|``, ``R`` the sum of the
  logits of the network with every parameter replaced by its absolute value, on one
  all-ones image, BatchNorm at its initial statistics (mean 0, variance 1), in float64
  (products of |weights| through 15 cells leave float32's range); initial parameters are
  Flax's defaults drawn with seed 0. Data-free (Tanaka et al., 2020). A cell with no path
  from its input to its output scores 0.

Computed once for all cells by ``python -m launch.prepare_nasbench201_features`` and
shipped as ``data/nasbench201_features.npz`` (325 kB; what made it is in its
``provenance`` entry): 1,925 s on this project's 2-core CPU at commit 75c40a4 (CIFAR-10 856
s, CIFAR-100 852 s, ImageNet16-120 216 s; about 0.055 s a cell at 32x32, in float64). Their
cost on a search's time axis is that: synflow is one forward pass and its derivative for a
single image, against 200 epochs of training. Spearman's rank correlation with the 200-epoch
test accuracy over all 15,625 cells (341 without a path score 0): synflow 0.774 / 0.764 /
0.751, parameters 0.750 / 0.725 / 0.689 (CIFAR-10 / CIFAR-100 / ImageNet16-120; FLOPs rank
the cells as parameters do). Abdelfattah et al. (ICLR 2021) report about 0.76 and 0.7.
"""

import functools
import json
import pathlib
import re
import time

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from bananas_jax import provenance
from bananas_jax.benchmarks import nasbench201
from bananas_jax.io import records
from bananas_jax.spaces import nasbench201 as space_lib

DATA_FILE = pathlib.Path(__file__).parent / 'data' / 'nasbench201_features.npz'
FEATURES = ('params', 'flops', 'synflow')
NUM_CLASSES = {'cifar10': 10, 'cifar100': 100, 'imagenet16_120': 120}
IMAGE_SIZE = {'cifar10': 32, 'cifar100': 32, 'imagenet16_120': 16}
CHANNELS = (16, 32, 64)
CELLS_PER_STAGE = 5


def _batch_norm():
  return nn.BatchNorm(use_running_average=True, momentum=0.9, epsilon=1e-5)


class ReLUConvBN(nn.Module):
  """ReLU, a convolution without bias, BatchNorm: the benchmark's convolution ops."""

  features: int
  kernel: int
  stride: int = 1

  @nn.compact
  def __call__(self, x):
    pad = (self.kernel - 1) // 2
    x = nn.Conv(self.features, (self.kernel,) * 2, (self.stride,) * 2,
                padding=((pad, pad), (pad, pad)), use_bias=False, name='conv')(nn.relu(x))
    return _batch_norm()(x)


class Edge(nn.Module):
  """Every op of the space, summed with one-hot weights: one program for every cell;
  the ops a cell does not use get weight 0, hence no gradient."""

  features: int

  @nn.compact
  def __call__(self, x, weights):
    outputs = {
        'avg_pool_3x3': nn.avg_pool(x, (3, 3), padding=((1, 1), (1, 1)),
                                    count_include_pad=False),
        'nor_conv_1x1': ReLUConvBN(self.features, 1, name='nor_conv_1x1')(x),
        'nor_conv_3x3': ReLUConvBN(self.features, 3, name='nor_conv_3x3')(x),
        'none': jnp.zeros_like(x), 'skip_connect': x}
    return sum(w * outputs[op] for op, w in zip(space_lib.OPS, weights))


class Cell(nn.Module):
  """Node ``j`` sums edge ``(i, j)``'s op of node ``i`` over ``i < j``; node 3 is the output."""

  features: int

  @nn.compact
  def __call__(self, x, weights):
    nodes = [x]
    for dst in range(1, max(d for _, d in space_lib.EDGES) + 1):
      nodes.append(sum(Edge(self.features, name=f'edge_{e}')(nodes[src], weights[e])
                       for e, (src, d) in enumerate(space_lib.EDGES) if d == dst))
    return nodes[-1]


class ResidualReduction(nn.Module):
  """Between stages: two ReLU-conv-BN 3x3 (the first at stride 2) beside a shortcut of 2x2
  average pooling and a 1x1 convolution."""

  features: int

  @nn.compact
  def __call__(self, x):
    y = ReLUConvBN(self.features, 3, 2, name='conv_a')(x)
    y = ReLUConvBN(self.features, 3, 1, name='conv_b')(y)
    shortcut = nn.Conv(self.features, (1, 1), use_bias=False, name='shortcut')(
        nn.avg_pool(x, (2, 2), (2, 2)))
    return shortcut + y


class Network(nn.Module):
  """NAS-Bench-201's network; ``weights`` ``float[6, 5]``: each edge's one-hot op."""

  num_classes: int

  @nn.compact
  def __call__(self, x, weights):
    x = _batch_norm()(nn.Conv(CHANNELS[0], (3, 3), padding=((1, 1), (1, 1)), use_bias=False,
                             name='stem')(x))
    for stage, features in enumerate(CHANNELS):
      if stage:
        x = ResidualReduction(features, name=f'reduction_{stage}')(x)
      for c in range(CELLS_PER_STAGE):
        x = Cell(features, name=f'cell_{stage}_{c}')(x, weights)
    x = nn.relu(_batch_norm()(x))
    return nn.Dense(self.num_classes, name='classifier')(jnp.mean(x, axis=(1, 2)))


def network(dataset):
  """The Flax network for ``dataset``'s classes."""
  return Network(NUM_CLASSES[_check(dataset)])


def _check(dataset):
  if dataset not in NUM_CLASSES:
    raise ValueError(f'unknown dataset {dataset!r}; accepted: {", ".join(NUM_CLASSES)}')
  return dataset


def _variables(dataset, dtype=None):
  """The network's initial variables (seed 0) on one all-ones image."""
  size = IMAGE_SIZE[dataset]
  image = jnp.ones((1, size, size, 3), dtype or jnp.float32)
  return network(dataset).init(jax.random.key(0), image,
                              jnp.ones((space_lib.NUM_EDGES, space_lib.NUM_OPS)))


@functools.lru_cache(maxsize=None)
def _parameter_shapes(dataset):
  """The network's parameter shapes, traced once per dataset (no compilation)."""
  return jax.eval_shape(lambda: _variables(dataset))['params']


def _per_cell(dataset, amount_of):
  """``float[15625]``: ``amount_of(names, shape)`` summed over the parameters of every cell's
  network, in millions: the parameters no edge owns, plus per edge those of the op the
  cell chose there, summed over the five cells of all three stages."""
  shapes = _parameter_shapes(dataset)
  base, per_op = 0, np.zeros((space_lib.NUM_EDGES, space_lib.NUM_OPS), np.int64)
  for path, leaf in jax.tree_util.tree_flatten_with_path(shapes)[0]:
    names = [p.key for p in path]
    amount = amount_of(names, leaf.shape)
    edge = next((i for i, name in enumerate(names) if name.startswith('edge_')), None)
    if edge is None:
      base += amount
    else:  # .../edge_<e>/<op>/...
      per_op[int(names[edge][len('edge_'):]), space_lib.OPS.index(names[edge + 1])] += amount
  return (base + per_op[np.arange(space_lib.NUM_EDGES), _ops()].sum(-1)) / 1e6


def _resolution(dataset, names):
  """The output side of the layer at ``names``: the stage halves it from the image's."""
  side = IMAGE_SIZE[dataset]
  top = names[0]
  if top == 'classifier':
    return 1
  stage = int(re.search(r'_(\d)', top).group(1)) if top.startswith(('cell_', 'reduction_')) \
      else 0
  return side >> stage


def parameter_counts(dataset):
  """``float[15625]``: every cell's parameters (millions), row = official index."""
  return _per_cell(dataset, lambda names, shape: int(np.prod(shape)))


def flop_counts(dataset):
  """``float[15625]``: every cell's multiply-accumulates per image (millions)."""
  def macs(names, shape):
    if names[-1] != 'kernel':
      return 0
    side = _resolution(dataset, names)
    return int(np.prod(shape)) * side * side
  return _per_cell(dataset, macs)


def _ops():
  return nasbench201.read_table()['ops'].astype(np.int64)


def _x64():
  """Float64 inside (jax.enable_x64 from jax 0.7 on; jax.experimental's before it)."""
  if hasattr(jax, 'enable_x64'):
    return jax.enable_x64(True)
  from jax.experimental import enable_x64
  return enable_x64()


def synflow_scores(dataset, archs=None, chunk=64, progress=None):
  """``float64[N]``: the synflow score (module docstring) of every cell, or of ``archs``
  (``int[N, 6]`` op codes).

  With every parameter and the input non-negative, every ReLU passes its input and the
  network is linear in each layer's parameters, so by Euler's theorem the score, the sum of
  ``theta * dR/dtheta``, is ``d/dt R(t * theta)`` at ``t = 1``: one forward-mode derivative
  instead of a gradient per parameter (tests: equal to the gradient's definition)."""
  archs = _ops() if archs is None else np.asarray(archs)
  with _x64():
    variables = jax.tree.map(lambda v: jnp.abs(v.astype(jnp.float64)),
                             _variables(dataset, jnp.float64))
    model = network(dataset)
    size = IMAGE_SIZE[dataset]
    image = jnp.ones((1, size, size, 3), jnp.float64)

    def score(weights, variables):  # the variables an argument: no constants to fold
      def total(t):
        params = jax.tree.map(lambda p: t * p, variables['params'])
        return model.apply({**variables, 'params': params}, image, weights).sum()
      one = jnp.ones((), jnp.float64)
      return jax.jvp(total, (one,), (one,))[1]

    scores = jax.jit(jax.vmap(score, in_axes=(0, None)))
    one_hot = np.eye(space_lib.NUM_OPS)[archs]
    out = []
    for begin in range(0, len(one_hot), chunk):
      block = one_hot[begin:begin + chunk]
      padded = np.concatenate([block, np.repeat(block[:1], chunk - len(block), 0)])
      out.append(np.asarray(scores(jnp.asarray(padded), variables))[:len(block)])
      if progress:
        progress(dataset, begin + len(block), len(one_hot))
    return np.concatenate(out)


def write(out=DATA_FILE, datasets=tuple(NUM_CLASSES), progress=None):
  """Computes every feature of every cell and writes them, with the seconds each dataset
  took and what made them (``provenance``, a JSON string), to ``out`` (atomically)."""
  arrays, seconds = {}, {}
  for dataset in datasets:
    tick = time.perf_counter()
    arrays[f'{dataset}_params'] = parameter_counts(dataset)
    arrays[f'{dataset}_flops'] = flop_counts(dataset)
    arrays[f'{dataset}_synflow'] = synflow_scores(dataset, progress=progress)
    seconds[dataset] = round(time.perf_counter() - tick, 1)
  made = dict(provenance.provenance(), seconds=seconds)
  arrays['provenance'] = np.asarray(json.dumps(made))
  with records.atomic_file(out, 'wb') as f:  # an interrupted run leaves no half file
    np.savez_compressed(f, **arrays)
  return made


@functools.lru_cache(maxsize=1)
def read(path=DATA_FILE):
  """``{'<dataset>_<feature>': array[15625]}`` of the shipped file (read once)."""
  try:
    with np.load(path) as data:
      return {name: data[name] for name in data.files if name != 'provenance'}
  except FileNotFoundError:
    raise FileNotFoundError(
        f'NAS-Bench-201 features not found at {path}; they ship with the package, so '
        f'reinstall it or rebuild them with `python -m launch.prepare_nasbench201_features`'
    ) from None


def load(dataset):
  """``{feature: float[15625]}`` for ``dataset``, rows in official index order."""
  table = read()
  return {feature: table[f'{_check(dataset)}_{feature}'] for feature in FEATURES}


def model_inputs(dataset):
  """The features on scales a model can read: log parameters, log FLOPs and log(1 + synflow)
  (synflow spans 0 to 1e60; 341 cells, those whose output no weighted path reaches, score
  0)."""
  features = load(dataset)
  return {'log_params': np.log(features['params']), 'log_flops': np.log(features['flops']),
          'log1p_synflow': np.log1p(features['synflow'])}
