"""TPE: hyperopt's split, linear forgetting and categorical densities on worked examples,
and the good set feeding l."""

import jax.numpy as jnp
import numpy as np
import pytest

from bananas_jax import search, spaces
from bananas_jax.history import History
from bananas_jax.search import tpe

SPACE = spaces.make('nasbench201')


@pytest.mark.parametrize('count, good', [(1, 1), (16, 1), (17, 2), (100, 3), (20_000, 25)])
def test_good_set_size_is_hyperopts(count, good):  # min(ceil(0.25 sqrt(n)), 25)
  assert int(tpe.good_set_size(count, 0.25, 25)) == good


def test_forgetting_weights_ramp_over_all_but_the_newest():
  members = np.zeros(40, bool)
  members[::2] = True  # a set of 20, interleaved with another set
  weights = np.asarray(tpe.forgetting_weights(jnp.asarray(members), 16))
  np.testing.assert_allclose(weights[::2], np.concatenate([np.linspace(1 / 20, 1, 4),
                                                           np.ones(16)]), rtol=1e-6)
  assert (weights[1::2] == 0).all()
  assert (np.asarray(tpe.forgetting_weights(jnp.asarray(members), 25))[::2] == 1).all()
  one_old = np.asarray(tpe.forgetting_weights(jnp.ones(17, bool), 16))
  np.testing.assert_allclose(one_old, [1 / 17] + [1] * 16, rtol=1e-6)  # a ramp of one


def test_densities_are_counts_plus_prior_over_possible_options():
  choices = jnp.array([[0, 1], [2, 1], [0, 0], [1, 1]])
  members = jnp.array([True, True, True, False])
  density = np.asarray(tpe.densities(choices, (3, 2), members, 1.0, 25))
  np.testing.assert_allclose(density, [[3 / 6, 1 / 6, 2 / 6], [2 / 5, 3 / 5, 0]], rtol=1e-6)


def test_the_best_queries_make_l_and_the_rest_g():
  rng = np.random.default_rng(0)
  archs = SPACE.from_choices(jnp.asarray(rng.integers(0, 5, (20, 6))))
  errors = jnp.asarray(rng.permutation(20) + 5.0, jnp.float32)
  state = History.empty(SPACE, 30).add(SPACE, archs, errors)
  algo = search.make('tpe', SPACE, 30, {'num_init': 20, 'k': 5})
  l, g = (np.asarray(d) for d in algo.model(state))
  best = np.argsort(np.asarray(errors))[:2]  # ceil(0.25 * sqrt(20)) = 2
  choices = np.asarray(SPACE.to_choices(archs))
  for d in range(6):
    good_counts = np.bincount(choices[best, d], minlength=5)
    bad_counts = np.bincount(np.delete(choices[:, d], best), minlength=5)
    np.testing.assert_allclose(l[d], (good_counts + 1) / (good_counts + 1).sum(), rtol=1e-6)
    np.testing.assert_allclose(g[d], (bad_counts + 1) / (bad_counts + 1).sum(), rtol=1e-6)
