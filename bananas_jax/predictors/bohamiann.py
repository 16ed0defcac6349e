"""BOHAMIANN (Springenberg et al. 2016): a Bayesian neural network whose weights are sampled
with scale-adapted stochastic gradient Hamiltonian Monte Carlo; the spread of the sampled
networks' predictions is the model's uncertainty.

Defaults are pybnn's (the implementation the BANANAS comparison ran) with the chain the
comparison asked of it: 3 tanh layers of 50 units, a linear output and a learned noise
log-variance (initialised at log 1e-3), weights drawn from N(0, 1 / fan_in) and zero biases;
the Gaussian negative log likelihood of batches of 20, inputs and targets normalised to
zero mean and unit variance; 10,000 SGHMC steps in all, the first 1,000 a burn-in that
adapts the sampler's preconditioner, then a network kept every 50 steps (179 networks);
``learning_rate`` 1e-2 (its square root is the sampler's step), momentum decay 0.05.

A step follows the sampler's equations (Springenberg et al., eqs. 8-10): the minibatch
gradient times the number of points; during burn-in, running averages of the gradient and
its square over an adaptive window; the preconditioner ``1 / sqrt(v_hat)``; momentum
``v <- v - step^2 M^-1 grad - mdecay v + N(0, 2 step^2 mdecay M^-1 - step^4)``. Each step's
batch is 20 distinct points drawn afresh (the original walks through reshuffled epochs),
in float32 (the original runs in float64). The prediction is the mean of the kept
networks' outputs and their spread (as pybnn's, without the noise term), over the networks
that are finite: a chain on a few points can diverge part-way.
"""

import dataclasses
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from bananas_jax.predictors.base import check_at_least_one
from bananas_jax.predictors.training import masked_moments


class NoisyNet(nn.Module):
  """tanh hidden layers and a linear output, ``-> (mean [N], noise log-variance [])``."""

  num_layers: int
  width: int

  @nn.compact
  def __call__(self, x):
    dense = lambda width: nn.Dense(width, kernel_init=nn.initializers.variance_scaling(
        1.0, 'fan_in', 'normal'))
    for _ in range(self.num_layers):
      x = jnp.tanh(dense(self.width)(x))
    log_variance = self.param('log_variance', nn.initializers.constant(jnp.log(1e-3)), ())
    return dense(1)(x)[..., 0], log_variance


@dataclasses.dataclass(frozen=True)
class BOHAMIANN:
  """BOHAMIANN with pybnn's network and sampler; every field is a config field."""

  reads_graph: ClassVar[bool] = False
  num_layers: int = 3
  width: int = 50
  num_sghmc_steps: int = 10000  # every sampler step, burn-in included
  num_burn_in_steps: int = 1000
  keep_every: int = 50
  learning_rate: float = 1e-2
  mdecay: float = 0.05
  batch_size: int = 20

  def __post_init__(self):
    check_at_least_one('bohamiann', self, 'num_layers', 'width', 'keep_every', 'batch_size')
    if self.num_samples < 1:
      raise ValueError(f'bohamiann: num_sghmc_steps ({self.num_sghmc_steps}) must leave at '
                       f'least one network after num_burn_in_steps ({self.num_burn_in_steps})'
                       f' + keep_every ({self.keep_every})')
    if not 0 < self.mdecay < 1:
      raise ValueError(f'bohamiann: mdecay must be in (0, 1), got {self.mdecay}')

  @property
  def num_samples(self):
    return (self.num_sghmc_steps - 1 - self.num_burn_in_steps) // self.keep_every

  @property
  def module(self):
    return NoisyNet(self.num_layers, self.width)

  def fit(self, key, x, y, mask):
    """The kept networks' parameters (a leading sample axis) and the normalisation."""
    x_mean, x_std = masked_moments(x, mask)
    y_mean, y_std = masked_moments(y, mask)
    xn = jnp.where(mask[:, None], (x - x_mean) / x_std, 0.0)
    yn = jnp.where(mask, (y - y_mean) / y_std, 0.0)
    num_real = jnp.sum(mask)
    init_key, chain_key = jax.random.split(key)
    params = self.module.init(init_key, xn[:1])['params']
    step_size = jnp.sqrt(self.learning_rate)
    point_ids = jnp.arange(mask.shape[0])

    def nll(params, idx, weight):
      mean, log_variance = self.module.apply({'params': params}, xn[idx])
      error = jnp.square(yn[idx] - mean) * 0.5 / (jnp.exp(log_variance) + 1e-16)
      return jnp.sum(weight * (error + 0.5 * log_variance)) / jnp.sum(weight)

    def step(s, carry):
      params, state = carry
      batch_key, noise_key = jax.random.split(jax.random.fold_in(chain_key, s))
      draw = jax.vmap(lambda i: jax.random.uniform(jax.random.fold_in(batch_key, i)))(
          point_ids)  # point i's draw depends on i only: padding changes no batch
      idx = jax.lax.top_k(jnp.where(mask, draw, -1.0), min(self.batch_size, mask.shape[0]))[1]
      grad = jax.tree.map(lambda g: g * num_real, jax.grad(nll)(params, idx, mask[idx]))
      noise_keys = iter(jax.random.split(noise_key, len(jax.tree.leaves(params))))
      burn_in = s < self.num_burn_in_steps

      def update(p, g, tau, avg, v_hat, momentum):
        window = 1.0 / (tau + 1.0)
        tau = jnp.where(burn_in, tau - tau * avg * avg / (v_hat + 1e-16) + 1.0, tau)
        avg = jnp.where(burn_in, avg - avg * window + window * g, avg)
        v_hat = jnp.where(burn_in, v_hat - v_hat * window + window * g * g, v_hat)
        inverse_mass = 1.0 / (jnp.sqrt(v_hat) + 1e-16)
        variance = 2.0 * step_size**2 * self.mdecay * inverse_mass - step_size**4
        noise = jnp.sqrt(jnp.maximum(variance, 1e-16)) * jax.random.normal(
            next(noise_keys), p.shape)
        momentum = (momentum - step_size**2 * inverse_mass * g - self.mdecay * momentum
                    + noise)
        return p + momentum, (tau, avg, v_hat, momentum)

      leaves, treedef = jax.tree.flatten(params)
      out = [update(p, g, *st) for p, g, st in zip(leaves, jax.tree.leaves(grad), state)]
      return treedef.unflatten([o[0] for o in out]), [o[1] for o in out]

    ones = lambda p: jnp.ones_like(p)
    state = [(ones(p), ones(p), ones(p), jnp.zeros_like(p)) for p in jax.tree.leaves(params)]
    carry = jax.lax.fori_loop(0, self.num_burn_in_steps + 1, step, (params, state))

    def keep(carry, first):
      carry = jax.lax.fori_loop(first, first + self.keep_every, step, carry)
      return carry, carry[0]

    starts = self.num_burn_in_steps + 1 + self.keep_every * jnp.arange(self.num_samples)
    _, samples = jax.lax.scan(keep, carry, starts)
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf.reshape(leaf.shape[0], -1)), axis=1)
                                for leaf in jax.tree.leaves(samples)]), axis=0)
    return {'samples': samples, 'finite': finite, 'x_mean': x_mean, 'x_std': x_std,
            'y_mean': y_mean, 'y_std': y_std}

  def _moments(self, params, x):
    """Every kept network's prediction ``[num_samples, N]``, and the mean and spread over
    the finite ones. A chain can diverge (on 20 NAS-Bench-201 cells, 4 of 20 fits did,
    mostly after some good networks were kept): the networks before are still samples;
    with none finite, the model knows nothing and predicts the targets' mean and spread."""
    xn = (x - params['x_mean']) / params['x_std']
    # a few networks at a time: all 179 on a pool, for a hundred vmapped trials, would hold
    # every hidden activation at once
    members = jax.lax.map(lambda p: self.module.apply({'params': p}, xn)[0],
                          params['samples'], batch_size=20)
    members = members * params['y_std'] + params['y_mean']
    ok = params['finite'][:, None]
    count = jnp.sum(params['finite'])
    mean = jnp.sum(jnp.where(ok, members, 0.0), axis=0) / jnp.maximum(count, 1)
    spread = jnp.sqrt(jnp.sum(jnp.where(ok, members - mean, 0.0) ** 2, axis=0)
                      / jnp.maximum(count, 1))
    known = count > 0
    return (members, jnp.where(known, mean, params['y_mean']),
            jnp.where(known, spread, params['y_std']))

  def predict_members(self, params, x):
    """``float32[num_samples, N]``: every kept network's prediction (a diverged one's
    replaced by the finite ones' mean)."""
    members, mean, _ = self._moments(params, x)
    return jnp.where(params['finite'][:, None], members, mean)

  def predict(self, params, x):
    """Mean over the finite kept networks and their spread (ddof 0)."""
    return self._moments(params, x)[1:]
