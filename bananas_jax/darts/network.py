"""The DARTS evaluation network (CIFAR-10) in Flax linen, NHWC, with the architecture as data.

Stem conv, ``layers`` cells (reduction cells at 1/3 and 2/3 of the depth, channels doubled
there), each cell's two inputs preprocessed (a factorized reduce after a reduction cell),
its 8 (op, input) pairs summed into 4 nodes and the nodes concatenated; drop-path on every
op that is not an identity; an auxiliary head after the second reduction; global average
pooling and a linear classifier. BatchNorm momentum 0.9 is PyTorch's 0.1.

The architecture is an argument of ``__call__`` (``int32[2, 8, 2]``, as
:class:`bananas_jax.spaces.darts.DartsSpace` writes it), not a field. Every edge holds the
variables of every op it may be. Traced, the architecture is data: a cell's edges run as a
``lax.scan`` whose body reads its input by index and computes its op with ``lax.switch``
(its gradient written out: ``_edge_scan``), so one compiled program trains every
architecture of the space. As NumPy integers, it is resolved in Python: the program of
that one architecture, as a per-genotype network compiles it, with the same variables and
the same arithmetic. Parameters the architecture does not use get no gradient;
:func:`chosen` marks the ones it does (weight decay and the parameter count follow it).

Depthwise convolutions are sums of shifted slices and 1x1 convolutions matrix products:
the same arithmetic as the convolutions, which XLA's CPU backend ran 2-5 times slower
(stage 1 of the full network, forward and backward).
"""

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from bananas_jax.spaces import darts as space_lib

OPS = space_lib.OPS
SKIP = OPS.index('skip_connect')


def _batch_norm_layer(train, dtype):
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, dtype=dtype)


def _pointwise(features, dtype):
  """A 1x1 convolution without bias, as a matrix product over the channel axis."""
  return nn.Dense(features, use_bias=False, dtype=dtype)


def _shift_sum(x, weights, stride, dilation):
  """``sum_t window_t(x) * weights[t]`` over the kernel's taps t, ``x`` zero-padded."""
  k, s, d = weights.shape[0], stride, dilation
  pad = d * (k - 1) // 2
  height, width = (x.shape[1] - 1) // s + 1, (x.shape[2] - 1) // s + 1
  x = jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
  window = lambda i, j: x[:, i * d:i * d + s * (height - 1) + 1:s,
                          j * d:j * d + s * (width - 1) + 1:s]
  return sum(window(i, j) * weights[i, j, 0] for i in range(k) for j in range(k))


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _depthwise(x, weights, stride, dilation):
  """A depthwise convolution. Its gradient is written out so that the backward pass keeps
  only ``x`` and makes no full-size copy per tap (XLA's CPU backend kept one per tap of
  autodiff's version: 341 MB for one 5x5 layer of the full network's first stage)."""
  return _shift_sum(x, weights, stride, dilation)


def _depthwise_forward(x, weights, stride, dilation):
  return _shift_sum(x, weights, stride, dilation), (x, weights)


def _depthwise_backward(stride, dilation, residuals, dy):
  x, weights = residuals
  k, s, d = weights.shape[0], stride, dilation
  pad = d * (k - 1) // 2
  # The input gradient: dy spread back over the stride, correlated with the flipped kernel.
  spread = [(0, 0, 0)] + [(0, n - ((m - 1) * s + 1), s - 1)
                          for n, m in zip(x.shape[1:3], dy.shape[1:3])] + [(0, 0, 0)]
  dx = _shift_sum(jax.lax.pad(dy, jnp.zeros((), dy.dtype), spread), weights[::-1, ::-1], 1, d)
  padded = jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
  size = (x.shape[0], s * (dy.shape[1] - 1) + 1, s * (dy.shape[2] - 1) + 1, x.shape[3])

  def tap(t):  # one tap at a time: XLA's CPU backend held every tap's product at once
    window = jax.lax.dynamic_slice(padded, (0, t // k * d, t % k * d, 0), size)
    return jnp.sum(window[:, ::s, ::s] * dy, axis=(0, 1, 2), dtype=jnp.float32)

  taps = jax.lax.map(tap, jnp.arange(k * k))
  return dx, taps.reshape(weights.shape).astype(weights.dtype)


_depthwise.defvjp(_depthwise_forward, _depthwise_backward)



class ReLUConvBN(nn.Module):
  """ReLU, 1x1 conv, BN: a cell's preprocessing of an input to its channel count."""

  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    return _batch_norm_layer(train, self.dtype)(_pointwise(self.features, self.dtype)(nn.relu(x)))


class FactorizedReduce(nn.Module):
  """Halves the resolution: two stride-2 1x1 convs on offset grids, concatenated, BN."""

  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    x = nn.relu(x)
    half = self.features // 2
    x = jnp.concatenate([_pointwise(half, self.dtype)(x[:, ::2, ::2]),
                         _pointwise(half, self.dtype)(x[:, 1::2, 1::2])], axis=-1)
    return _batch_norm_layer(train, self.dtype)(x)


def _pool(kind, x, stride):
  if kind == 'max_pool_3x3':
    return nn.max_pool(x, (3, 3), (stride, stride), padding=((1, 1), (1, 1)))
  return nn.avg_pool(x, (3, 3), (stride, stride), padding=((1, 1), (1, 1)),
                     count_include_pad=False)


def drop_path(key, x, rate):
  """Zeroes whole examples with probability ``rate`` and rescales the rest."""
  keep = 1.0 - rate
  mask = jax.random.bernoulli(key, keep, (x.shape[0], 1, 1, 1))
  return jnp.where(mask, x / keep, 0).astype(x.dtype)


# (kernel, dilation, blocks) of the convolution ops, in OPS order: a block is ReLU,
# depthwise conv, pointwise conv and BatchNorm; a separable conv is two undilated blocks.
CONVS = {'sep_conv_3x3': (3, 1, 2), 'sep_conv_5x5': (5, 1, 2), 'dil_conv_3x3': (3, 2, 1),
         'dil_conv_5x5': (5, 2, 1)}


def _is_concrete(value):
  return isinstance(value, (bool, int, np.integer, np.bool_))


class ConvVariables(nn.Module):
  """Declares one convolution op's variables for a cell's 8 edges, stacked on a leading
  axis, per block ``b``: depthwise and pointwise kernels, BatchNorm's scale and bias, and
  its statistics. Returns them as named here: parameters, and statistics as Variables."""

  features: int
  kernel: int
  blocks: int

  @nn.compact
  def __call__(self):
    c, k, e = self.features, self.kernel, space_lib.NUM_PAIRS
    lecun = nn.initializers.lecun_normal(batch_axis=0)  # each edge's own fan-in
    params, stats = {}, {}
    for b in range(self.blocks):
      params[f'depthwise_{b}'] = self.param(f'depthwise_{b}', lecun, (e, k, k, 1, c))
      params[f'pointwise_{b}'] = self.param(f'pointwise_{b}', lecun, (e, c, c))
      params[f'scale_{b}'] = self.param(f'scale_{b}', nn.initializers.ones, (e, c))
      params[f'bias_{b}'] = self.param(f'bias_{b}', nn.initializers.zeros, (e, c))
      stats[f'mean_{b}'] = self.variable('batch_stats', f'mean_{b}', jnp.zeros, (e, c))
      stats[f'var_{b}'] = self.variable('batch_stats', f'var_{b}', jnp.ones, (e, c))
    return params, stats


def _batch_norm(x, params, stats, train):
  """BatchNorm as ``nn.BatchNorm`` computes it here (statistics in float32, biased
  variance, momentum 0.9, epsilon 1e-5); returns the output and the statistics, updated
  in training."""
  if train:
    x32 = x.astype(jnp.float32)
    mean = jnp.mean(x32, axis=(0, 1, 2))
    var = jnp.maximum(jnp.mean(jnp.square(x32), axis=(0, 1, 2)) - jnp.square(mean), 0.0)
    stats = {'mean': 0.9 * stats['mean'] + 0.1 * mean, 'var': 0.9 * stats['var'] + 0.1 * var}
  else:
    mean, var = stats['mean'], stats['var']
  y = (x.astype(jnp.float32) - mean) * jax.lax.rsqrt(var + 1e-5) * params['scale'] + \
      params['bias']
  return y.astype(x.dtype), stats


def _convolution(x, name, stride, params, stats, train, dtype):
  """Convolution op ``name`` (a key of :data:`CONVS`) of ``x`` with its ``params`` and
  ``stats`` (named as :class:`ConvVariables` declares them); returns the output and the
  updated statistics."""
  _, dilation, blocks = CONVS[name]
  new = {}
  for b in range(blocks):
    x = _depthwise(nn.relu(x), params[f'depthwise_{b}'].astype(dtype), stride if b == 0 else 1,
                   dilation)
    x, block_stats = _batch_norm(
        x @ params[f'pointwise_{b}'].astype(dtype),
        {'scale': params[f'scale_{b}'], 'bias': params[f'bias_{b}']},
        {'mean': stats[f'mean_{b}'], 'var': stats[f'var_{b}']}, train)
    new.update({f'{kind}_{b}': value for kind, value in block_stats.items()})
  return x, new


class EdgeVariables(nn.Module):
  """Declares the variables of a cell's 8 edges, stacked on a leading axis (one array per
  kind of variable, not one per edge: a program and an optimizer state 8 times smaller):
  those of every op an edge may be (the four convolutions, and in a reduction cell the
  factorized reduce of a skip connection from a cell input). Returns the parameters and
  the BatchNorm statistics as Variables."""

  features: int
  reduction: bool
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, cell_input):
    declared = {name: ConvVariables(self.features, kernel, blocks, name=name)()
                for name, (kernel, _, blocks) in CONVS.items()}
    params = {name: p for name, (p, _) in declared.items()}
    stats = {name: s for name, (_, s) in declared.items()}
    if self.reduction:
      params['skip_connect'], stats['skip_connect'] = stacked_copies(
          self, 'skip_connect', FactorizedReduce(self.features, self.dtype, parent=None),
          space_lib.NUM_PAIRS, cell_input, False)
    return params, stats


def stacked_copies(owner, name, module, copies, *example_args):
  """Declares ``copies`` independently initialised copies of ``module``'s variables,
  stacked on a leading axis, as ``owner``'s parameter ``name`` and its ``batch_stats``
  variable ``name`` (initialised for ``example_args``): one array per leaf for all
  copies, which a ``lax.scan`` or a gather reads. Returns ``(params, stats variable)``."""
  initial = lambda key: jax.vmap(lambda k: module.init(k, *example_args))(
      jax.random.split(key, copies))
  params = owner.param(name, lambda key: initial(key)['params'])
  stats = owner.variable('batch_stats', name, lambda: initial(jax.random.key(0))['batch_stats'])
  return params, stats


def _ops(stride, features, train, dtype):
  """Every op an edge may be at ``stride``, in OPS order, as ``(x, params, stats) -> (y,
  stats)`` with the edge's variables of every op (``params``, ``stats``: one edge's,
  without the edges axis); only the op's own statistics change."""

  def factorized_reduce(x, params, stats):
    y, updates = FactorizedReduce(features, dtype, parent=None).apply(
        {'params': params['skip_connect'], 'batch_stats': stats['skip_connect']}, x, train,
        mutable=['batch_stats'])
    return y, {**stats, 'skip_connect': updates['batch_stats']}

  def convolution(name):
    def run(x, params, stats):
      y, new = _convolution(x, name, stride, params[name], stats[name], train, dtype)
      return y, {**stats, name: new}
    return run

  keep = lambda f: lambda x, params, stats: (f(x).astype(x.dtype), stats)  # pools: float32
  return [keep(lambda x: jnp.zeros_like(x[:, ::stride, ::stride])),
          keep(lambda x: _pool('max_pool_3x3', x, stride)),
          keep(lambda x: _pool('avg_pool_3x3', x, stride)),
          factorized_reduce if stride == 2 else keep(lambda x: x)] + [
          convolution(name) for name in CONVS]


def _drop_path_of_edge(j, y, source, op, key, drop_rate, reduction):
  """Edge ``j``'s drop-path (``y`` scaled and masked), never of an identity (a skip
  connection at stride 1). Linear in ``y`` and diagonal: it is its own transpose."""
  identity = (op == SKIP) & ((source >= 2) | (not reduction))
  dropped = drop_path(jax.random.fold_in(key, j), y, drop_rate)
  if _is_concrete(identity):
    return y if identity else dropped
  return jnp.where(identity, y, dropped)


class Cell(nn.Module):
  """Two preprocessed inputs, 8 edges summed into 4 nodes, the nodes concatenated. Every
  edge holds the variables of every op it may be and computes only the chosen one.

  ``pairs`` (``[8, 2]``: input node, op) as NumPy integers unrolls the edges into the
  program of that one architecture. Traced, the edges run as a ``lax.scan`` whose body
  reads its input with a dynamic index and picks its op with ``lax.switch``: one program,
  holding one edge per cell, trains every architecture. Both compute the same function of
  the same variables and draw the same drop-path masks (one key per edge)."""

  features: int
  reduction: bool
  reduction_prev: bool
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, s0, s1, pairs, train, drop_rate):
    s0, s1 = _preprocessed({0: s0, 1: s1}, self.features, self.reduction_prev, self.dtype,
                           train)
    params, variables = EdgeVariables(self.features, self.reduction, self.dtype,
                                      name='edges')(s1)
    is_variable = lambda v: isinstance(v, nn.Variable)
    stats = jax.tree.map(lambda v: v.value, variables, is_leaf=is_variable)
    key = self.make_rng('dropout') if train else None
    settings = dict(features=self.features, reduction=self.reduction, train=train,
                    dtype=self.dtype)
    run = _unrolled_edges if isinstance(pairs, np.ndarray) else _scanned_edges
    nodes, new_stats = run(s0, s1, pairs, params, stats, key, drop_rate, **settings)
    if self.is_mutable_collection('batch_stats') and not self.is_initializing():
      jax.tree.map(lambda v, value: setattr(v, 'value', value), variables, new_stats,
                   is_leaf=is_variable)
    return jnp.concatenate(nodes, axis=-1)


def _unrolled_edges(s0, s1, pairs, params, stats, key, drop_rate, *, features, reduction,
                    train, dtype):
  """A cell's 8 edges for NumPy ``pairs``, resolved in Python: one architecture's program.
  Returns the 4 nodes and every edge's statistics, stacked."""
  nodes, new_stats = [s0, s1], []
  for node in range(space_lib.NUM_NODES):
    total = 0
    for j in (2 * node, 2 * node + 1):
      source, op = int(pairs[j, 0]), int(pairs[j, 1])
      of_edge = lambda tree, j=j: jax.tree.map(lambda leaf: leaf[j], tree)
      stride = 2 if reduction and source < 2 else 1
      y, new = _ops(stride, features, train, dtype)[op](nodes[source], of_edge(params),
                                                        of_edge(stats))
      if train:
        y = _drop_path_of_edge(j, y, source, op, key, drop_rate, reduction)
      new_stats.append(new)
      total = total + y
    nodes.append(total)
  return nodes[2:], jax.tree.map(lambda *edges: jnp.stack(edges), *new_stats)


@functools.partial(jax.jit, static_argnames=('features', 'reduction', 'train', 'dtype'))
def _scanned_edges(s0, s1, pairs, params, stats, key, drop_rate, *, features, reduction, train,
                   dtype):
  """A cell's 8 edges for traced ``pairs``, as a ``lax.scan`` whose body reads its input
  by index and picks its op with ``lax.switch``. Jitted, so that every cell of the same
  shapes and settings is traced, differentiated and lowered once: the full network's 20
  cells are 5 such functions (a stage's normal cells, each reduction cell), and its step
  lowers in 7 s instead of 17 s on the 2-core CPU. XLA still compiles every cell."""
  nodes, new_stats = _edge_scan((features, reduction, train, dtype), s0, s1, params, pairs,
                                stats, key, drop_rate)
  return list(nodes[0 if reduction else 2:]), new_stats


def _edge_branches(reduction, features, train, dtype):
  """``(group, op)`` per branch of an edge's switch, branch ``group * len(OPS) + op``: a
  normal cell's edges read at stride 1 (one group); a reduction cell's read its inputs at
  stride 2 (group 0) or its own nodes at stride 1 (group 1). One branch per op and group,
  each static inside, so XLA fuses it as in one architecture's program (one branch for the
  four convolutions, picking kernels by nested switches, made steps 10% slower: 2.43 s
  against 2.20 s at 8 cells and 16 channels)."""
  return [(g, f) for g, stride in enumerate((2, 1) if reduction else (1,))
          for f in _ops(stride, features, train, dtype)]


def _edge_reads(source, op, reduction, inputs, nodes):
  """``(branch, index per group, what each group reads)`` for an edge: it reads a
  reduction cell's ``inputs`` (group 0) or the carried ``nodes`` (the last group; a normal
  cell's inputs are carried too). Indices are clipped: a group an edge does not read
  gives any entry."""
  if not reduction:
    branch, at = op, [jnp.clip(source, 0, len(nodes) - 1)]
  else:
    branch = (source >= 2) * len(OPS) + op
    at = [jnp.clip(source, 0, 1), jnp.clip(source - 2, 0, len(nodes) - 1)]
  return branch, at, [read[i] for read, i in zip(_read_from(reduction, inputs, nodes), at)]


def _read_from(reduction, inputs, nodes):
  """What an edge's groups read from, in group order (see :func:`_edge_reads`)."""
  return [inputs, nodes] if reduction else [nodes]


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _edge_scan(settings, s0, s1, params, pairs, stats, key, drop_rate):
  """The carried nodes after a cell's 8 edges (a normal cell's inputs and 4 nodes; a
  reduction cell's 4 nodes), and every edge's statistics.

  Its gradient is written out (``_edge_scan_backward``): a reverse scan over the edges
  that recomputes each edge's op from the final nodes and applies its pullback. Autodiff
  of the scan instead stacked every edge's residuals (its input among them: a copy of a
  node per edge) and, through the switch, zero-filled the slots of the ops not chosen."""
  return _edge_scan_forward(settings, s0, s1, params, pairs, stats, key, drop_rate)[0]


def _edge_scan_forward(settings, s0, s1, params, pairs, stats, key, drop_rate):
  features, reduction, train, dtype = settings
  inputs = jnp.stack([s0, s1])
  empty = jnp.zeros((space_lib.NUM_NODES,) + (s1[:, ::2, ::2] if reduction else s1).shape,
                    s1.dtype)
  first = 2 if reduction else 0  # the node number of the carry's first entry
  branches = [lambda reads, params, stats, g=g, f=f: f(reads[g], params, stats)
              for g, f in _edge_branches(reduction, features, train, dtype)]

  def step(nodes, xs):
    j, source, op, params, stats = xs
    branch, _, reads = _edge_reads(source, op, reduction, inputs, nodes)
    y, stats = jax.lax.switch(branch, branches, reads, params, stats)
    if train:
      y = _drop_path_of_edge(j, y, source, op, key, drop_rate, reduction)
    return nodes.at[j // 2 + 2 - first].add(y), stats

  carry = empty if reduction else jnp.concatenate([inputs, empty])
  xs = (jnp.arange(space_lib.NUM_PAIRS), pairs[:, 0], pairs[:, 1], params, stats)
  nodes, new_stats = jax.lax.scan(step, carry, xs)
  # A normal cell's inputs are the carry's first two nodes; a reduction cell's are kept.
  inputs = inputs if reduction else None
  return (nodes, new_stats), (inputs, params, pairs, stats, key, drop_rate, nodes)


def _edge_scan_backward(settings, residuals, cotangents):
  """Edges in reverse order: an edge's input is final in the nodes after the scan (a node
  is read only by the edges of later nodes), so its op is recomputed from there, under a
  switch over each op's pullback, and its input's gradient added where it was read."""
  features, reduction, train, dtype = settings
  inputs, params, pairs, stats, key, drop_rate, nodes = residuals
  d_nodes, _ = cotangents  # the statistics are not differentiated
  first = 2 if reduction else 0

  def pullback(g, f):
    def run(reads, params, stats, dy):
      _, vjp = jax.vjp(lambda x, params: f(x, params, stats)[0], reads[g], params)
      dx, d_params = vjp(dy)
      return [dx if i == g else jnp.zeros_like(r) for i, r in enumerate(reads)], d_params
    return run

  branches = [pullback(g, f) for g, f in _edge_branches(reduction, features, train, dtype)]

  def step(d_read_from, xs):
    j, source, op, params, stats = xs
    dy = d_read_from[-1][j // 2 + 2 - first]
    if train:
      dy = _drop_path_of_edge(j, dy, source, op, key, drop_rate, reduction)
    branch, at, reads = _edge_reads(source, op, reduction, inputs, nodes)
    d_reads, d_params = jax.lax.switch(branch, branches, reads, params, stats, dy)
    return [d.at[i].add(dx) for d, i, dx in zip(d_read_from, at, d_reads)], d_params

  d_read_from = _read_from(reduction, jnp.zeros_like(inputs) if reduction else None, d_nodes)
  xs = (jnp.arange(space_lib.NUM_PAIRS), pairs[:, 0], pairs[:, 1], params, stats)
  d_read_from, d_params = jax.lax.scan(step, d_read_from, xs, reverse=True)
  d_s0, d_s1 = d_read_from[0][:2]  # a reduction cell's inputs, or a normal cell's carry
  return d_s0, d_s1, d_params, None, None, None, None


_edge_scan.defvjp(_edge_scan_forward, _edge_scan_backward)


class AuxiliaryHead(nn.Module):
  """The CIFAR auxiliary classifier on the 8x8 maps after the second reduction."""

  num_classes: int = 10
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    x = nn.avg_pool(nn.relu(x), (5, 5), (3, 3), padding='VALID', count_include_pad=False)
    x = _pointwise(128, self.dtype)(x)
    x = nn.relu(_batch_norm_layer(train, self.dtype)(x))
    x = nn.Conv(768, (2, 2), padding='VALID', use_bias=False, dtype=self.dtype)(x)
    x = nn.relu(_batch_norm_layer(train, self.dtype)(x))
    return nn.Dense(self.num_classes, dtype=self.dtype)(x.reshape(x.shape[0], -1))


class CellInputs(nn.Module):
  """The preprocessing of those inputs of cell ``name`` that a run's scan cannot carry
  (:class:`CellRun`): what it reads from the stem or from the stage before. Its variables
  are named as in :class:`Cell`."""

  features: int
  reduction_prev: bool
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, inputs, train):
    """``inputs``: ``{input number: map}``; returns them preprocessed, in that order."""
    return _preprocessed(inputs, self.features, self.reduction_prev, self.dtype, train)


def _preprocessed(inputs, features, reduction_prev, dtype, train):
  """A cell's inputs (``{input number: map}``) brought to ``features`` channels at its
  resolution, in input order: the first by a factorized reduce after a reduction cell,
  else each by ReLU, 1x1 conv and BN. Called inside a module's ``__call__``, whose
  submodules these become (``FactorizedReduce_0`` or ``ReLUConvBN_<n>``)."""
  out = []
  for which, x in sorted(inputs.items()):
    if which == 0 and reduction_prev:
      out.append(FactorizedReduce(features, dtype)(x, train))
    else:
      out.append(ReLUConvBN(features, dtype)(x, train))
  return out


class CellRun(nn.Module):
  """A stage's normal cells ``first`` to ``last`` as one ``lax.scan`` over their variables
  stacked on a leading axis (``edges``; ``inputs_<k>``, input k's preprocessing), so the
  program holds one normal cell body per stage (``DartsNetwork.scan_cells``). The scan
  carries a cell's two input maps; the inputs it cannot carry (:func:`run_entries`: the
  stem's 3C channels, the larger maps of the stage before) are preprocessed before it, by
  :class:`CellInputs`, and ``given`` in their place: per input number, those of the run's
  first cells, in cell order."""

  length: int
  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, s1, given, pairs, train, drop_rate):
    c, n = self.features, self.length
    example = jnp.zeros(s1.shape[:-1] + (4 * c,), s1.dtype)  # a carried map
    preprocess = ReLUConvBN(c, self.dtype, parent=None)
    inputs = [stacked_copies(self, f'inputs_{k}', preprocess, n - len(given[k]), example, False)
              if len(given[k]) < n else None for k in (0, 1)]
    params, stats = stacked_copies(self, 'edges', EdgeVariables(c, False, self.dtype,
                                                                parent=None), n, example)
    keys = (jax.random.split(self.make_rng('dropout'), n),) if train else ()
    run = _unrolled_edges if isinstance(pairs, np.ndarray) else _scanned_edges

    def preprocessed(k, i, x):
      """Input ``k`` of the run's cell ``i``: given, or preprocessed from the carried map;
      with its ``inputs_k`` copy's statistics (unchanged where given; None if it has none)."""
      count = len(given[k])
      row = lambda tree: jax.tree.map(lambda v: v[jnp.clip(i - count, 0)], tree)

      def computed():
        y, updates = preprocess.apply({'params': row(inputs[k][0]),
                                       'batch_stats': row(inputs[k][1].value)}, x, train,
                                      mutable=['batch_stats'])
        return y, updates['batch_stats']

      def read():
        stats = None if inputs[k] is None else row(inputs[k][1].value)
        return jnp.stack(given[k])[jnp.minimum(i, count - 1)], stats

      if not count:
        return computed()
      return read() if inputs[k] is None else jax.lax.cond(i < count, read, computed)

    def step(carry, xs):
      i, params, stats, *key = xs
      (x0, stats0), (x1, stats1) = (preprocessed(k, i, x) for k, x in enumerate(carry))
      nodes, new_stats = run(x0, x1, pairs, params, stats, key[0] if train else None,
                             drop_rate, features=c, reduction=False, train=train,
                             dtype=self.dtype)
      return (carry[1], jnp.concatenate(nodes, axis=-1)), (new_stats, stats0, stats1)

    start = (example, example if len(given[1]) else s1)
    (before_last, last), (new_stats, *input_stats) = jax.lax.scan(
        step, start, (jnp.arange(n), params, stats.value, *keys))
    if self.is_mutable_collection('batch_stats') and not self.is_initializing():
      stats.value = new_stats
      for k in (0, 1):
        if inputs[k] is not None:
          inputs[k][1].value = jax.tree.map(lambda v: v[len(given[k]):], input_stats[k])
    return (s1 if n == 1 else before_last), last  # the next cell's inputs


def run_entries(first, last):
  """``{cell: input numbers}``: the inputs of a run's cells that the scan cannot carry
  (see :class:`CellRun`)."""
  if first:
    return {first: (0,)}
  return {0: (0, 1), **({1: (0,)} if last > 0 else {})}


class DartsNetwork(nn.Module):
  """Returns ``(logits, auxiliary logits or None)``; float32 logits whatever ``dtype``.
  Variables: ``cell_<i>`` per cell; with ``scan_cells``, ``run_<first>_to_<last>`` for a
  stage's normal cells, stacked and run as one scan (:class:`CellRun`), and ``cell_<i>``
  for the reduction cells and for the inputs the scans cannot carry. The scan is a trade:
  on the 2-core CPU at the full size the first architecture's first step comes 51 s after
  it is asked for instead of 72 s, and steps are 15-17% slower (``python -m
  launch.bench_darts [--scan_cells]``, commit 8e932fa; WORKSPACE.md, "Speed")."""

  init_channels: int = 36
  layers: int = 20
  auxiliary: bool = True
  num_classes: int = 10
  dtype: Any = jnp.float32  # bfloat16: activations and convs in bf16, parameters in fp32
  scan_cells: bool = False

  @nn.compact
  def __call__(self, images, arch, train=False, drop_rate=0.0):
    c = self.init_channels
    x = nn.Conv(3 * c, (3, 3), padding='SAME', use_bias=False, dtype=self.dtype)(images)
    x = _batch_norm_layer(train, self.dtype)(x)
    s0 = s1 = x
    reductions = reduction_cells(self.layers)
    aux_logits = None
    runs = cell_runs(self.layers) if self.scan_cells else [(i, i) for i in range(self.layers)]
    for first, last in runs:
      c = 2 * c if first in reductions else c
      reduction_prev = first - 1 in reductions
      if first in reductions or not self.scan_cells:
        s0, s1 = s1, Cell(c, first in reductions, reduction_prev, self.dtype,
                          name=f'cell_{first}')(s0, s1, arch[int(first in reductions)], train,
                                                drop_rate)
      else:
        given = [[], []]
        for i, numbers in run_entries(first, last).items():
          read = {0: s0 if i == first else s1, 1: s1}
          maps = CellInputs(c, i == first and reduction_prev, self.dtype, name=f'cell_{i}')(
              {k: read[k] for k in numbers}, train)
          for k, x in zip(numbers, maps):
            given[k].append(x)
        s0, s1 = CellRun(last - first + 1, c, self.dtype, name=f'run_{first}_to_{last}')(
            s1, given, arch[0], train, drop_rate)
      if self.auxiliary and reductions[1] in (first, last):
        aux_logits = AuxiliaryHead(self.num_classes, self.dtype)(s1, train).astype(jnp.float32)
    x = jnp.mean(s1, axis=(1, 2))
    logits = nn.Dense(self.num_classes, dtype=self.dtype)(x).astype(jnp.float32)
    return logits, aux_logits


def reduction_cells(layers):
  """The indices of the reduction cells: at 1/3 and 2/3 of the depth."""
  return layers // 3, 2 * layers // 3


def cell_runs(layers):
  """``(first, last)`` cell indices in network order: each stage's normal cells, as one run
  (:class:`CellRun`), and each reduction cell alone."""
  reductions = reduction_cells(layers)
  runs = []
  for i in range(layers):
    if runs and i not in reductions and runs[-1][0] not in reductions:
      runs[-1] = (runs[-1][0], i)
    else:
      runs.append((i, i))
  return runs


def chosen(params, arch, layers):
  """A tree like ``params`` (or any tree of the network's variables) of booleans, each
  broadcastable to its leaf: which entries ``arch`` uses. A candidate op's parameters
  count on the edges that choose it (a factorized reduce only where the edge reads a cell
  input); all others always count. ``arch`` may be traced."""
  reductions = reduction_cells(layers)

  def used(path, leaf):
    names = _names(path)
    if 'edges' not in names:
      return True
    unit = next(n for n in names if n.startswith(('cell_', 'run_')))  # runs: normal cells
    pairs = arch[int(unit.startswith('cell_') and int(unit[5:]) in reductions)]
    name = names[names.index('edges') + 1]
    is_chosen = pairs[:, 1] == OPS.index(name)
    if name == 'skip_connect':
      is_chosen = is_chosen & (pairs[:, 0] < 2)
    before = int(unit.startswith('run_'))  # a run's cells axis, before the edges axis
    return is_chosen.reshape((1,) * before + (-1,) + (1,) * (len(leaf.shape) - before - 1))

  return jax.tree_util.tree_map_with_path(used, params)


def stacked_axes(path):
  """How many leading axes of the variable at ``path`` stack copies of it: one for a
  cell's edges (``edges``), one for a run's cells (``run_...``)."""
  names = _names(path)
  return int('edges' in names) + int(any(n.startswith('run_') for n in names))


def _names(path):
  """The dictionary keys along a pytree path."""
  return [str(getattr(key, 'key', '')) for key in path]


@functools.lru_cache(maxsize=8)
def variable_shapes(model):
  """``model``'s variables as shapes, traced once per network: they are the same for every
  architecture."""
  return jax.eval_shape(lambda: model.init(
      jax.random.key(0), jnp.zeros((1, 32, 32, 3)),
      np.zeros((2, space_lib.NUM_PAIRS, 2), np.int32)))


def count_params(genotype, init_channels=36, layers=20, auxiliary=False) -> int:
  """``genotype``: a name, DARTS genotype text, or ``{'normal': ..., 'reduce': ...}``.
  Trainable parameters (BatchNorm statistics excluded) the architecture uses, on 32x32
  images, counted from shapes alone (nothing is computed)."""
  space = space_lib.DartsSpace()
  arch = (space.from_string(genotype) if isinstance(genotype, str)
          else space.from_genotype(genotype))
  shapes = variable_shapes(DartsNetwork(init_channels, layers, auxiliary))
  mask = chosen(shapes['params'], arch, layers)
  return sum(int(np.broadcast_to(keep, leaf.shape).sum())
             for leaf, keep in zip(jax.tree.leaves(shapes['params']), jax.tree.leaves(mask)))
