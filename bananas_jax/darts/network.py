"""The DARTS evaluation network (CIFAR-10) in Flax linen, NHWC.

Stem conv, ``layers`` cells (reduction cells at 1/3 and 2/3 of the depth, channels doubled
there), each cell's two inputs preprocessed (a factorized reduce after a reduction cell),
its 8 (op, input) pairs summed into 4 nodes and the nodes concatenated; drop-path on every
op that is not an identity; an auxiliary head after the second reduction; global average
pooling and a linear classifier. BatchNorm momentum 0.9 is PyTorch's 0.1.
"""

from typing import Any

import jax
import jax.numpy as jnp
from flax import linen as nn

from bananas_jax.spaces import darts as space_lib


def _batch_norm(train, dtype):
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, dtype=dtype)


class ReLUConvBN(nn.Module):
  features: int
  kernel: int = 1
  stride: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    x = nn.Conv(self.features, (self.kernel, self.kernel), self.stride, padding='SAME',
                use_bias=False, dtype=self.dtype)(nn.relu(x))
    return _batch_norm(train, self.dtype)(x)


class DilConv(nn.Module):
  """ReLU, depthwise conv (dilated), pointwise conv, BN."""

  features: int
  kernel: int
  stride: int
  dilation: int = 2
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    pad = self.dilation * (self.kernel - 1) // 2
    x = nn.Conv(x.shape[-1], (self.kernel, self.kernel), self.stride, padding=pad,
                kernel_dilation=self.dilation, feature_group_count=x.shape[-1], use_bias=False,
                dtype=self.dtype)(nn.relu(x))
    x = nn.Conv(self.features, (1, 1), use_bias=False, dtype=self.dtype)(x)
    return _batch_norm(train, self.dtype)(x)


class SepConv(nn.Module):
  """Two undilated DilConv blocks, the first with the stride."""

  features: int
  kernel: int
  stride: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    x = DilConv(x.shape[-1], self.kernel, self.stride, 1, self.dtype)(x, train)
    return DilConv(self.features, self.kernel, 1, 1, self.dtype)(x, train)


class FactorizedReduce(nn.Module):
  """Halves the resolution: two stride-2 1x1 convs on offset grids, concatenated, BN."""

  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    x = nn.relu(x)
    conv = lambda: nn.Conv(self.features // 2, (1, 1), 2, padding='VALID', use_bias=False,
                           dtype=self.dtype)
    x = jnp.concatenate([conv()(x), conv()(x[:, 1:, 1:])], axis=-1)
    return _batch_norm(train, self.dtype)(x)


def _pool(kind, x, stride):
  if kind == 'max_pool_3x3':
    return nn.max_pool(x, (3, 3), (stride, stride), padding=((1, 1), (1, 1)))
  return nn.avg_pool(x, (3, 3), (stride, stride), padding=((1, 1), (1, 1)),
                     count_include_pad=False)


class Op(nn.Module):
  """One of the 8 DARTS ops on ``features`` channels; ``stride`` 2 in a reduction cell."""

  op: str
  features: int
  stride: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    if self.op == 'none':
      return jnp.zeros_like(x[:, ::self.stride, ::self.stride])
    if self.op in ('max_pool_3x3', 'avg_pool_3x3'):
      return _pool(self.op, x, self.stride)
    if self.op == 'skip_connect':
      return x if self.stride == 1 else FactorizedReduce(self.features, self.dtype)(x, train)
    kind, size = self.op[:8], int(self.op[-3])
    if kind == 'sep_conv':
      return SepConv(self.features, size, self.stride, self.dtype)(x, train)
    return DilConv(self.features, size, self.stride, 2, self.dtype)(x, train)


def drop_path(module, x, rate):
  """Zeroes whole examples with probability ``rate`` and rescales the rest (rng 'dropout')."""
  keep = 1.0 - rate
  mask = jax.random.bernoulli(module.make_rng('dropout'), keep, (x.shape[0], 1, 1, 1))
  return jnp.where(mask, x / keep, 0).astype(x.dtype)


class Cell(nn.Module):
  pairs: tuple  # ((op name, input node), ...) x 8
  features: int
  reduction: bool
  reduction_prev: bool
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, s0, s1, train, drop_rate):
    if self.reduction_prev:
      s0 = FactorizedReduce(self.features, self.dtype)(s0, train)
    else:
      s0 = ReLUConvBN(self.features, dtype=self.dtype)(s0, train)
    s1 = ReLUConvBN(self.features, dtype=self.dtype)(s1, train)
    states = [s0, s1]
    for node in range(space_lib.NUM_NODES):
      total = 0
      for op, source in self.pairs[2 * node:2 * node + 2]:
        stride = 2 if self.reduction and source < 2 else 1
        h = Op(op, self.features, stride, self.dtype)(states[source], train)
        identity = op == 'skip_connect' and stride == 1
        if train and not identity:  # the rate is traced (it rises during training)
          h = drop_path(self, h, drop_rate)
        total = total + h
      states.append(total)
    return jnp.concatenate(states[2:], axis=-1)


class AuxiliaryHead(nn.Module):
  """The CIFAR auxiliary classifier on the 8x8 maps after the second reduction."""

  num_classes: int = 10
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train):
    x = nn.avg_pool(nn.relu(x), (5, 5), (3, 3), padding='VALID', count_include_pad=False)
    x = nn.Conv(128, (1, 1), use_bias=False, dtype=self.dtype)(x)
    x = nn.relu(_batch_norm(train, self.dtype)(x))
    x = nn.Conv(768, (2, 2), padding='VALID', use_bias=False, dtype=self.dtype)(x)
    x = nn.relu(_batch_norm(train, self.dtype)(x))
    return nn.Dense(self.num_classes, dtype=self.dtype)(x.reshape(x.shape[0], -1))


class DartsNetwork(nn.Module):
  """Returns ``(logits, auxiliary logits or None)``; float32 logits whatever ``dtype``."""

  genotype: tuple  # (normal, reduce), each ((op, input node), ...) x 8: hashable for jit
  init_channels: int = 36
  layers: int = 20
  auxiliary: bool = True
  num_classes: int = 10
  dtype: Any = jnp.float32  # bfloat16: activations and convs in bf16, parameters in fp32

  @nn.compact
  def __call__(self, images, train=False, drop_rate=0.0):
    c = self.init_channels
    x = nn.Conv(3 * c, (3, 3), padding='SAME', use_bias=False, dtype=self.dtype)(images)
    x = _batch_norm(train, self.dtype)(x)
    s0 = s1 = x
    reductions = (self.layers // 3, 2 * self.layers // 3)
    reduction_prev, aux_logits = False, None
    for i in range(self.layers):
      reduction = i in reductions
      c = 2 * c if reduction else c
      pairs = tuple(map(tuple, self.genotype[1 if reduction else 0]))
      s0, s1 = s1, Cell(pairs, c, reduction, reduction_prev, self.dtype)(
          s0, s1, train, drop_rate)
      reduction_prev = reduction
      if self.auxiliary and i == reductions[1]:
        aux_logits = AuxiliaryHead(self.num_classes, self.dtype)(s1, train).astype(jnp.float32)
    x = jnp.mean(s1, axis=(1, 2))
    logits = nn.Dense(self.num_classes, dtype=self.dtype)(x).astype(jnp.float32)
    return logits, aux_logits


def count_params(genotype, init_channels=36, layers=20, auxiliary=False) -> int:
  """``genotype``: a name, DARTS genotype text, or ``{'normal': ..., 'reduce': ...}``.
  Trainable parameters (BatchNorm statistics excluded) of the network on 32x32 images,
  counted from shapes alone (nothing is computed)."""
  space = space_lib.DartsSpace()
  cells = space.to_genotype(space.from_string(genotype) if isinstance(genotype, str)
                            else space.from_genotype(genotype))
  model = DartsNetwork((tuple(cells['normal']), tuple(cells['reduce'])), init_channels, layers,
                       auxiliary)
  shapes = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, 32, 32, 3)))
  return sum(int(leaf.size) for leaf in jax.tree.leaves(shapes['params']))
