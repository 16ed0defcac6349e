"""The interface every registered model keeps (:mod:`bananas_jax.predictors.base`), checked
for each of ``predictors.PREDICTORS`` at small settings:

- it satisfies the ``Predictor`` protocol (``MemberPredictor`` where it has members), and
  reads the graph encoding exactly when it says so;
- a fit in a padded buffer does not depend on what the padding holds, and is the fit on
  the real points alone (to float32 rounding of sums over more rows; an SGHMC chain
  amplifies that rounding, so BOHAMIANN is held to the first part only);
- ``predict`` gives a finite mean and a non-negative spread per architecture, members one
  row each;
- a fit vmaps over trials, as the runner runs it (the ensemble and the GP here; the
  others in tests/test_algorithm_contract.py's batches);
- fitted on 100 NAS-Bench-201 cells, it ranks 60 others.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from bananas_jax import benchmarks, predictors, spaces

SPACE = spaces.make('nasbench201')
# Small settings that still learn. The ensemble trains on 'mape', whose division by the
# target is where padding would show first.
SMALL = {
    'ensemble': predictors.MetaNetEnsemble(num_ensemble=3, epochs=60, loss='mape'),
    'gp': predictors.GaussianProcess(),
    'dngo': predictors.DNGO(epochs=60),
    'bohamiann': predictors.BOHAMIANN(num_sghmc_steps=600, num_burn_in_steps=200,
                                      keep_every=40),
    'gcn': predictors.GCN(epochs=40, width=32, linear_width=16),
    'bayesian_gcn': predictors.BayesianGCN(epochs=40, width=32, linear_width=16),
}
SLOW = ('bohamiann', 'gcn', 'bayesian_gcn')
# An SGHMC chain is chaotic: sums over more rows round differently and take the chain on
# another (equally valid) path, so only the padding's contents are shown not to matter.
CHAOTIC = ('bohamiann',)
NUM_REAL, CAPACITY = 100, 130


def test_every_model_has_small_settings_here():
  assert set(SMALL) == set(predictors.PREDICTORS)
  for name, model in SMALL.items():
    assert type(model) is predictors.PREDICTORS[name]


def each_model():
  return [pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name
          for name in predictors.PREDICTORS]


@pytest.fixture(scope='module')
def cells():
  benchmark = benchmarks.load('nasbench201', 'cifar10', 200)
  archs = SPACE.sample(jax.random.key(0), 160)
  return archs, benchmark.query(jax.random.key(1), archs).val_error


# The encoding each reads in its search.
ENCODING = {'ensemble': 'path', 'gp': 'path', 'dngo': 'adjacency', 'bohamiann': 'adjacency',
            'gcn': 'graph', 'bayesian_gcn': 'graph'}


@pytest.mark.parametrize('name', predictors.PREDICTORS)
def test_satisfies_the_protocol(name):
  model = SMALL[name]
  assert isinstance(model, predictors.Predictor)
  assert isinstance(model, predictors.MemberPredictor) == (name in ('ensemble', 'bohamiann'))
  assert model.reads_graph == (ENCODING[name] == 'graph')


@pytest.mark.parametrize('name', each_model())
def test_padding_changes_nothing_and_the_fit_ranks_unseen_cells(name, cells):
  model, (archs, y) = SMALL[name], cells
  x = SPACE.encode(archs, ENCODING[name])
  fit = jax.jit(model.fit)
  key = jax.random.key(2)
  mask = jnp.arange(CAPACITY) < NUM_REAL

  def fit_padded_with(junk):  # a history pads with anything, and its errors with +inf
    pad = jnp.full((CAPACITY - NUM_REAL,) + x.shape[1:], junk)
    return fit(key, jnp.concatenate([x[:NUM_REAL], pad]),
               jnp.concatenate([y[:NUM_REAL], jnp.full(CAPACITY - NUM_REAL, jnp.inf)]), mask)

  unseen = x[NUM_REAL:]
  mean, std = model.predict(fit_padded_with(3.0), unseen)
  for a, b in zip((mean, std), model.predict(fit_padded_with(-7.0), unseen)):
    np.testing.assert_array_equal(a, b)
  if name not in CHAOTIC:
    exact = model.predict(fit(key, x[:NUM_REAL], y[:NUM_REAL], jnp.ones(NUM_REAL, bool)),
                          unseen)
    for a, b in zip((mean, std), exact):
      np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-3)

  assert mean.shape == std.shape == (len(unseen),)
  assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std >= 0)
  assert scipy.stats.kendalltau(mean, y[NUM_REAL:])[0] > 0.25  # p < 0.01 on 60 cells
  if isinstance(model, predictors.MemberPredictor):
    members = model.predict_members(fit_padded_with(3.0), unseen)
    assert members.shape[1:] == (len(unseen),) and members.shape[0] > 1


# The other models' fits are vmapped by the algorithm contract's batches, where trials
# alone and batched must ask the same.
@pytest.mark.parametrize('name', ['ensemble', 'gp'])
def test_a_fit_vmaps_over_trials(name, cells):
  model, (archs, y) = SMALL[name], cells
  x, y, mask = SPACE.encode(archs[:20], ENCODING[name]), y[:20], jnp.ones(20, bool)
  keys = jax.random.split(jax.random.key(0), 3)
  batched = jax.vmap(model.fit, in_axes=(0, None, None, None))(keys, x, y, mask)
  one = model.fit(keys[1], x, y, mask)
  for a, b in zip(model.predict(jax.tree.map(lambda leaf: leaf[1], batched), x),
                  model.predict(one, x)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
