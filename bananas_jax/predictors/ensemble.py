"""The BANANAS meta neural network ensemble, in Flax, members trained together by vmap.

Defaults are the original code's: 10 hidden ReLU layers of width 20, a linear scalar
output, Glorot-uniform kernels and zero biases, mean absolute error on the raw target
(validation error in %), Adam (0.01, 0.9, 0.99, Keras' epsilon 1e-7), batch 32, 150
epochs reshuffled every epoch, 5 members from independent initialisations.

The training set lives in fixed-capacity arrays with a mask. The real points must come
first (as in a query history); an epoch is one pass over them in shuffled batches of
``batch_size`` real points, padding never reaches a loss or a gradient, and the shuffle
of point ``i`` depends only on ``i``, so a fit inside a capacity-150 buffer is the same
computation as a fit on the real points alone.
"""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

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


def epoch_steps(mask, batch_size):
  """Updates per epoch of :func:`fit_masked`: batches of the real points, the last partial."""
  return (jnp.sum(mask) + batch_size - 1) // batch_size


def fit_masked(key, module, optimizer, pointwise_loss, x, y, mask, epochs, batch_size):
  """``module``'s parameters trained from a fresh initialisation on the masked points of a
  fixed-capacity buffer (the real points first): ``epochs`` passes in shuffled batches of
  ``batch_size`` real points, ``pointwise_loss(pred, target)`` averaged over each batch.
  Each batch gets its own ``'dropout'`` key; ``optimizer`` may schedule its learning rate
  by update count (:func:`epoch_steps` updates per epoch)."""
  init_key, shuffle_key = jax.random.split(key)
  dropout_key = jax.random.fold_in(init_key, 1)  # for modules with dropout; others ignore it
  # Padding may hold anything (a history pads with +inf); make it finite and non-zero
  # (mape divides by it) so that its zero weight gives exactly zero loss and gradient.
  x = jnp.where(mask.reshape(mask.shape + (1,) * (x.ndim - 1)), x, 0.0)
  y = jnp.where(mask, y, 1.0)
  params = module.init(init_key, x[:1])['params']
  opt_state = optimizer.init(params)
  capacity, bs = x.shape[0], batch_size
  num_real = jnp.sum(mask)
  num_batches = epoch_steps(mask, bs)
  padded = -(-capacity // bs) * bs  # whole batches over the buffer, so slices never clip
  point_ids = jnp.arange(capacity)

  def loss_fn(params, xb, yb, wb, batch_key):
    pred = module.apply({'params': params}, xb, rngs={'dropout': batch_key})
    return jnp.sum(wb * pointwise_loss(pred, yb)) / jnp.sum(wb)

  def epoch(e, carry):
    params, opt_state = carry
    epoch_key = jax.random.fold_in(shuffle_key, e)
    draw = jax.vmap(lambda i: jax.random.uniform(jax.random.fold_in(epoch_key, i)))(point_ids)
    order = jnp.argsort(jnp.where(mask, draw, jnp.inf))  # real points first, shuffled
    order = jnp.pad(order, (0, padded - capacity))

    def batch(b, carry):
      params, opt_state = carry
      idx = jax.lax.dynamic_slice_in_dim(order, b * bs, bs)
      weight = ((b * bs + jnp.arange(bs)) < num_real).astype(x.dtype)
      batch_key = jax.random.fold_in(jax.random.fold_in(dropout_key, e), b)
      grads = jax.grad(loss_fn)(params, x[idx], y[idx], weight, batch_key)
      updates, opt_state = optimizer.update(grads, opt_state, params)
      return optax.apply_updates(params, updates), opt_state

    return jax.lax.fori_loop(0, num_batches, batch, (params, opt_state))

  params, _ = jax.lax.fori_loop(0, epochs, epoch, (params, opt_state))
  return params


@dataclasses.dataclass(frozen=True)
class MetaNetEnsemble:
  """An ensemble of :class:`MetaNet`; parameters carry a leading member axis."""

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
    for name in ('num_ensemble', 'num_layers', 'width', 'epochs', 'batch_size'):
      if getattr(self, name) < 1:
        raise ValueError(f'{name} must be at least 1, got {getattr(self, name)}')

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
