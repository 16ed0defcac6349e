"""DNGO's Bayesian linear regression against its closed form (the whole model's padding
and learning: test_predictor_contract.py)."""

import jax.numpy as jnp
import numpy as np
import scipy.stats

from bananas_jax.predictors import dngo



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


