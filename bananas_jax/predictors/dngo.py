"""DNGO (Snoek et al. 2015): a neural network whose last hidden layer is the basis of a
Bayesian linear regression, the model of a BO loop with a calibrated predictive spread.

Defaults are pybnn's (the implementation the BANANAS comparison ran): 3 tanh layers of 50
units and a linear output, trained on mean squared error with Adam (0.01), batches of 10,
500 epochs, inputs and targets normalised to zero mean and unit variance. The regression
(:class:`BayesianLastLayer`, shared with BONAS' graph network) takes the 50 features and a
constant. Its two precisions, alpha (of the weights' prior) and
beta (of the noise), are the maximisers of the marginal likelihood over a log-spaced grid
(type-II maximum likelihood); pybnn instead samples them with emcee. With a hundred or more
points their posterior is concentrated, and a grid is one deterministic, vmappable program
where a sampler would add thousands of sequential steps to every fit.
"""

import dataclasses
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from bananas_jax.predictors import gp
from bananas_jax.predictors.base import check_at_least_one
from bananas_jax.predictors.training import fit_masked, masked_moments


class FeatureNet(nn.Module):
  """tanh hidden layers and a linear scalar output; ``features=True`` returns the last
  hidden layer instead of the output."""

  num_layers: int
  width: int

  @nn.compact
  def __call__(self, x, features=False):
    for _ in range(self.num_layers):
      x = jnp.tanh(nn.Dense(self.width)(x))
    return x if features else nn.Dense(1)(x)[..., 0]


def blr_posterior(phi, y, mask, alpha, beta):
  """Bayesian linear regression on the masked rows of ``phi[N, F]``: ``(m, low, log
  evidence)``, the posterior mean of the weights, the Cholesky factor of the posterior
  precision A = beta phi^T phi + alpha I, and log p(y | alpha, beta)."""
  phi = jnp.where(mask[:, None], phi, 0.0)
  y = jnp.where(mask, y, 0.0)
  n, num_features = jnp.sum(mask), phi.shape[1]
  low = gp.cholesky(beta * phi.T @ phi + alpha * jnp.eye(num_features))
  m = beta * gp.solve_lower_transposed(low, gp.solve_lower(low, phi.T @ y))
  residual = y - phi @ m
  log_evidence = (0.5 * num_features * jnp.log(alpha) + 0.5 * n * jnp.log(beta)
                  - 0.5 * beta * residual @ residual - 0.5 * alpha * m @ m
                  - jnp.sum(jnp.log(jnp.diag(low))) - 0.5 * n * jnp.log(2 * jnp.pi))
  return m, low, log_evidence


@dataclasses.dataclass(frozen=True)
class BayesianLastLayer:
  """A Bayesian linear regression over a network's last hidden layer and a constant, its
  precisions at the marginal likelihood's maximum over a log-spaced grid (DNGO, BONAS)."""

  log10_alpha_range: tuple[float, float] = (-3.0, 3.0)  # the marginal likelihood's grid
  log10_beta_range: tuple[float, float] = (-1.0, 5.0)  # (targets normalised to unit variance)
  grid_size: int = 13  # points per precision: half a decade apart

  def __post_init__(self):
    check_at_least_one('last_layer', self, 'grid_size')

  def fit(self, phi, y, mask):
    """The posterior at the evidence-maximising precisions (``phi`` without the constant)."""
    phi = with_constant(phi)  # padded rows: masked out by blr_posterior
    grid = np.stack(np.meshgrid(np.logspace(*self.log10_alpha_range, self.grid_size),
                                np.logspace(*self.log10_beta_range, self.grid_size)), -1)
    grid = jnp.asarray(grid.reshape(-1, 2), jnp.float32)
    evidence = jax.vmap(lambda a, b: blr_posterior(phi, y, mask, a, b)[2])(grid[:, 0],
                                                                           grid[:, 1])
    # float32 loses the Cholesky factor of an ill-conditioned precision: such points lose.
    alpha, beta = grid[jnp.argmax(jnp.where(jnp.isfinite(evidence), evidence, -jnp.inf))]
    m, low, _ = blr_posterior(phi, y, mask, alpha, beta)
    return {'m': m, 'low': low, 'alpha': alpha, 'beta': beta}

  def predict(self, params, phi):
    """Predictive mean and standard deviation (the weights' spread and the noise)."""
    phi = with_constant(phi)
    spread = gp.solve_lower(params['low'], phi.T)  # [F, N]
    return phi @ params['m'], jnp.sqrt(jnp.sum(spread ** 2, axis=0) + 1.0 / params['beta'])


def with_constant(phi):
  return jnp.concatenate([phi, jnp.ones_like(phi[:, :1])], axis=1)


@dataclasses.dataclass(frozen=True)
class DNGO:
  """DNGO with pybnn's network and training defaults; every field is a config field."""

  reads_graph: ClassVar[bool] = False
  num_layers: int = 3
  width: int = 50
  learning_rate: float = 0.01
  epochs: int = 500
  batch_size: int = 10
  last_layer: BayesianLastLayer = BayesianLastLayer()

  def __post_init__(self):
    check_at_least_one('dngo', self, 'num_layers', 'width', 'epochs', 'batch_size')

  @property
  def module(self):
    return FeatureNet(self.num_layers, self.width)

  def fit(self, key, x, y, mask):
    """The trained network, the normalisation and the last layer's posterior."""
    x_mean, x_std = masked_moments(x, mask)
    y_mean, y_std = masked_moments(y, mask)
    xn, yn = (x - x_mean) / x_std, (y - y_mean) / y_std
    net = fit_masked(key, self.module, optax.adam(self.learning_rate),
                     lambda pred, target: jnp.square(pred - target), xn, yn, mask,
                     self.epochs, self.batch_size)
    phi = self.module.apply({'params': net}, xn, features=True)
    return {'net': net, 'x_mean': x_mean, 'x_std': x_std, 'y_mean': y_mean, 'y_std': y_std,
            'last_layer': self.last_layer.fit(phi, yn, mask)}

  def predict(self, params, x):
    phi = self.module.apply({'params': params['net']},
                            (x - params['x_mean']) / params['x_std'], features=True)
    mean, std = self.last_layer.predict(params['last_layer'], phi)
    return mean * params['y_std'] + params['y_mean'], std * params['y_std']
