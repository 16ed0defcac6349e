"""The BANANAS meta neural network ensemble, in Flax, members trained together by vmap.

Defaults are the original code's: 10 hidden ReLU layers of width 20, a linear scalar
output, Glorot-uniform kernels and zero biases, mean absolute error on the raw target
(validation error in %), Adam (0.01, 0.9, 0.99, Keras' epsilon 1e-7), batch 32, 150
epochs reshuffled every epoch, 5 members from independent initialisations.

The training set is a masked fixed-capacity buffer (:mod:`bananas_jax.predictors.base`),
trained on by :func:`bananas_jax.predictors.training.fit_masked`.
"""

import dataclasses
import functools
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from bananas_jax.predictors.base import check_at_least_one
from bananas_jax.predictors.training import fit_masked

LOSSES = ('mae', 'mse', 'mape')


class MetaNet(nn.Module):
  """A fully connected regressor: ``float32[N, D] -> float32[N]``."""

  num_layers: int = 10
  width: int = 20

  @nn.compact
  def __call__(self, x):
    for _ in range(self.num_layers):
      x = nn.relu(nn.Dense(self.width, kernel_init=nn.initializers.glorot_uniform())(x))
    return nn.Dense(1, kernel_init=nn.initializers.glorot_uniform())(x)[..., 0]


def _pointwise_loss(name, pred, target):
  if name == 'mae':
    return jnp.abs(pred - target)
  if name == 'mse':
    return jnp.square(pred - target)
  return 100.0 * jnp.abs((pred - target) / target)  # mape


@dataclasses.dataclass(frozen=True)
class MetaNetEnsemble:
  """An ensemble of :class:`MetaNet`; parameters carry a leading member axis."""

  reads_graph: ClassVar[bool] = False
  num_ensemble: int = 5
  num_layers: int = 10
  width: int = 20
  learning_rate: float = 0.01
  beta1: float = 0.9
  beta2: float = 0.99
  epochs: int = 150
  batch_size: int = 32
  loss: str = 'mae'

  def __post_init__(self):
    if self.loss not in LOSSES:
      raise ValueError(f'unknown loss {self.loss!r}; accepted: {", ".join(LOSSES)}')
    check_at_least_one('ensemble', self, 'num_ensemble', 'num_layers', 'width', 'epochs',
                       'batch_size')

  @property
  def module(self):
    return MetaNet(self.num_layers, self.width)

  def optimizer(self, learning_rate=None):
    return optax.adam(self.learning_rate if learning_rate is None else learning_rate,
                      self.beta1, self.beta2, eps=1e-7)

  def fit(self, key, x, y, mask, learning_rate=None):
    """Trains every member from scratch on the masked points; returns stacked params.
    ``learning_rate`` (a traced scalar) replaces the field's, to vmap over settings."""
    member_keys = jax.random.split(key, self.num_ensemble)
    fit_member = functools.partial(self._fit_member, learning_rate=learning_rate)
    return jax.vmap(fit_member, in_axes=(0, None, None, None))(member_keys, x, y, mask)

  def _fit_member(self, key, x, y, mask, learning_rate):
    return fit_masked(key, self.module, self.optimizer(learning_rate),
                      functools.partial(_pointwise_loss, self.loss), x, y, mask, self.epochs,
                      self.batch_size)

  def predict_members(self, params, x):
    """``float32[num_ensemble, N]``: every member's prediction."""
    return jax.vmap(lambda p: self.module.apply({'params': p}, x))(params)

  def predict(self, params, x):
    """Mean over members and population standard deviation (ddof 0)."""
    preds = self.predict_members(params, x)
    return preds.mean(axis=0), preds.std(axis=0)
