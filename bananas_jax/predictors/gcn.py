"""The graph convolutional network of the neural predictor (Wen et al. 2019) and BONAS (Shi
et al. 2020), on the ``'graph'`` encoding (ops as labelled nodes of the cell's DAG).

Defaults are those of the GCN the BANANAS comparison ran (naszilla, after the neural
predictor's public reimplementation): 4 directed graph convolutions of 144 units, each the
mean of a pass along the edges and one against them (``relu(A_norm H W)``, ``A_norm`` the
row-normalised adjacency with self-loops), dropout 0.1, the mean over nodes, a linear layer
of 128 units, dropout, a linear scalar output; mean squared error on targets normalised to
zero mean and unit variance, Adam (1e-4) with L2 weight decay 3e-4 and a cosine learning
rate over 300 epochs, batches of 7. The original drops the last partial batch of an epoch;
here it is kept (a fit in a fixed-capacity buffer has a traced number of points).

:class:`GCN` predicts a value only (the neural predictor ranks a pool by it);
:class:`BayesianGCN` puts a Bayesian linear regression over the 128 features of the trained
network, as BONAS does, for a predictive spread.
"""

import dataclasses
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from bananas_jax.predictors.base import check_at_least_one
from bananas_jax.predictors.dngo import BayesianLastLayer
from bananas_jax.predictors.training import epoch_steps, fit_masked, masked_moments


def _row_normalised(adjacency):
  return adjacency / jnp.maximum(adjacency.sum(axis=-1, keepdims=True), 1e-12)


class DirectedGraphConv(nn.Module):
  """One directed graph convolution: the mean of a pass along and one against the edges."""

  features: int
  dropout: float

  @nn.compact
  def __call__(self, h, along, against):
    dense = lambda: nn.Dense(self.features, use_bias=False,
                             kernel_init=nn.initializers.glorot_uniform())
    out = 0.5 * (nn.relu(along @ dense()(h)) + nn.relu(against @ dense()(h)))
    return nn.Dropout(self.dropout, deterministic=not self.has_rng('dropout'))(out)


class GraphNet(nn.Module):
  """``float32[N, nodes, nodes + labels] -> float32[N]``; ``features=True`` returns the
  last hidden layer. Dropout is on only when a ``'dropout'`` key is given (training)."""

  num_layers: int
  width: int
  linear_width: int
  dropout: float

  @nn.compact
  def __call__(self, x, features=False):
    nodes = x.shape[-2]
    adjacency, h = x[..., :nodes], x[..., nodes:]
    adjacency = _row_normalised(adjacency + jnp.eye(nodes))
    along = _row_normalised(adjacency)
    against = _row_normalised(jnp.swapaxes(adjacency, -1, -2))
    for _ in range(self.num_layers):
      h = DirectedGraphConv(self.width, self.dropout)(h, along, against)
    h = nn.Dense(self.linear_width, use_bias=False)(h.mean(axis=-2))
    if features:
      return h
    h = nn.Dropout(self.dropout, deterministic=not self.has_rng('dropout'))(h)
    return nn.Dense(1, use_bias=False)(h)[..., 0]


@dataclasses.dataclass(frozen=True)
class GCN:
  """The neural predictor's GCN; every field is a config field."""

  reads_graph: ClassVar[bool] = True  # the 'graph' encoding, and only it
  num_layers: int = 4
  width: int = 144
  linear_width: int = 128
  dropout: float = 0.1
  learning_rate: float = 1e-4
  weight_decay: float = 3e-4
  epochs: int = 300
  batch_size: int = 7
  chunk: int = 250  # graphs scored at once (memory, not results)

  def __post_init__(self):
    check_at_least_one('gcn', self, 'num_layers', 'width', 'linear_width', 'epochs',
                       'batch_size', 'chunk')
    if not 0 <= self.dropout < 1:
      raise ValueError(f'gcn: dropout must be in [0, 1), got {self.dropout}')

  @property
  def module(self):
    return GraphNet(self.num_layers, self.width, self.linear_width, self.dropout)

  def train(self, key, x, y, mask):
    """The network trained on targets normalised over the real points."""
    y_mean, y_std = masked_moments(y, mask)
    per_epoch = epoch_steps(mask, self.batch_size)
    cosine = lambda step: self.learning_rate * 0.5 * (
        1 + jnp.cos(jnp.pi * (step // per_epoch) / self.epochs))
    optimizer = optax.chain(optax.add_decayed_weights(self.weight_decay), optax.adam(cosine))
    net = fit_masked(key, self.module, optimizer,
                     lambda pred, target: jnp.square(pred - target), x,
                     (y - y_mean) / y_std, mask, self.epochs, self.batch_size)
    return {'net': net, 'y_mean': y_mean, 'y_std': y_std}

  def fit(self, key, x, y, mask):
    return self.train(key, x, y, mask)

  def apply(self, net, x, features=False):
    """The network on a batch, ``chunk`` graphs at a time: scoring a pool of thousands of
    candidates for a hundred vmapped trials at once would hold every node's activations."""
    one = lambda graph: self.module.apply({'params': net}, graph[None], features=features)[0]
    return jax.lax.map(one, x, batch_size=self.chunk)

  def predict(self, params, x):
    """The network's prediction; its spread is zero (a point estimate)."""
    mean = self.apply(params['net'], x) * params['y_std'] + params['y_mean']
    return mean, jnp.zeros_like(mean)


@dataclasses.dataclass(frozen=True)
class BayesianGCN(GCN):
  """BONAS' model: the GCN with a Bayesian linear regression over its last hidden layer."""

  last_layer: BayesianLastLayer = BayesianLastLayer()

  def fit(self, key, x, y, mask):
    params = self.train(key, x, y, mask)
    phi = self.apply(params['net'], x, features=True)
    y_norm = (y - params['y_mean']) / params['y_std']
    return {**params, 'last_layer': self.last_layer.fit(phi, y_norm, mask)}

  def predict(self, params, x):
    phi = self.apply(params['net'], x, features=True)
    mean, std = self.last_layer.predict(params['last_layer'], phi)
    return mean * params['y_std'] + params['y_mean'], std * params['y_std']
