"""Training on a masked fixed-capacity buffer, shared by the models that train networks.

The real points come first (as in a query history). An epoch is one pass over them in
shuffled batches of ``batch_size`` real points; padding never reaches a loss or a gradient,
and the shuffle of point ``i`` depends only on ``i``, so a fit inside a capacity-150 buffer
is the same computation as a fit on the real points alone.
"""

import jax
import jax.numpy as jnp
import optax


def masked_moments(v, mask):
  """Mean and standard deviation over the masked rows (a zero spread becomes 1)."""
  rows = mask.reshape(mask.shape + (1,) * (v.ndim - 1))
  mean = jnp.sum(jnp.where(rows, v, 0.0), axis=0) / jnp.sum(mask)
  std = jnp.sqrt(jnp.sum(jnp.where(rows, v - mean, 0.0) ** 2, axis=0) / jnp.sum(mask))
  return mean, jnp.where(std > 0, std, 1.0)


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
