"""DNGO: the Bayesian linear regression against its closed form, the whole model on a
padded buffer, and what it learns."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from bananas_jax import benchmarks, spaces
from bananas_jax.predictors import DNGO, dngo

SPACE = spaces.make('nasbench201')


def test_blr_posterior_and_evidence_match_the_closed_form():
  rng = np.random.default_rng(0)
  phi, y = rng.normal(size=(12, 4)), rng.normal(size=12)
  alpha, beta = 0.7, 3.0
  padded_phi = np.concatenate([phi, np.full((5, 4), 9.0)])  # padding holds anything
  padded_y = np.concatenate([y, np.full(5, np.inf)])
  m, low, evidence = dngo.blr_posterior(jnp.asarray(padded_phi, jnp.float32),
                                        jnp.asarray(padded_y, jnp.float32),
                                        jnp.arange(17) < 12, alpha, beta)
  precision = beta * phi.T @ phi + alpha * np.eye(4)
  np.testing.assert_allclose(m, beta * np.linalg.solve(precision, phi.T @ y), rtol=1e-4)
  np.testing.assert_allclose(low @ low.T, precision, rtol=1e-4)
  marginal = scipy.stats.multivariate_normal(np.zeros(12), phi @ phi.T / alpha + np.eye(12) / beta)
  np.testing.assert_allclose(evidence, marginal.logpdf(y), rtol=1e-4)


@pytest.fixture(scope='module')
def fitted():
  benchmark = benchmarks.load('nasbench201', 'cifar10', 200)
  archs = SPACE.sample(jax.random.key(0), 140)
  x = SPACE.encode(archs, 'trunc_path', 40)
  y = benchmark.query(jax.random.key(1), archs).val_error
  model = DNGO(epochs=60)
  key = jax.random.key(2)
  exact = model.fit(key, x[:100], y[:100], jnp.ones(100, bool))
  padded = model.fit(key, jnp.concatenate([x[:100], jnp.full((50, 40), 3.0)]),
                     jnp.concatenate([y[:100], jnp.full(50, jnp.inf)]), jnp.arange(150) < 100)
  return model, exact, padded, x[100:], y[100:]


def test_a_fit_in_a_padded_buffer_is_the_fit_on_the_real_points(fitted):
  model, exact, padded, x_test, _ = fitted
  for a, b in zip(model.predict(exact, x_test), model.predict(padded, x_test)):
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)  # sums over 150 vs 100 rows


def test_dngo_ranks_held_out_cells_and_spreads_its_predictions(fitted):
  model, params, _, x_test, y_test = fitted
  mean, std = model.predict(params, x_test)
  assert scipy.stats.kendalltau(mean, y_test)[0] > 0.3
  assert np.all(std > 0) and np.all(np.isfinite(std))
