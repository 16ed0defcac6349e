import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from bananas_jax import benchmarks, spaces
from bananas_jax.predictors import MetaNetEnsemble

SPACE = spaces.make('nasbench201')


def data(n, dim=40, seed=0):
  archs = SPACE.sample(jax.random.PRNGKey(seed), n)
  x = SPACE.encode(archs, 'trunc_path', dim)
  y = 10.0 + 5.0 * x[:, :3].sum(axis=1)
  return x, y


def test_members_differ_and_train_in_one_program():
  ens = MetaNetEnsemble(num_ensemble=5, epochs=3)
  x, y = data(30)
  fit = jax.jit(ens.fit)
  params = fit(jax.random.PRNGKey(0), x, y, jnp.ones(30, bool))
  kernel = params['Dense_0']['kernel']
  assert kernel.shape == (5, 40, 20)  # a leading member axis
  assert all(not np.allclose(kernel[0], kernel[i]) for i in range(1, 5))
  preds = ens.predict_members(params, x)
  assert preds.shape == (5, 30)
  mean, std = ens.predict(params, x)
  np.testing.assert_allclose(mean, np.mean(preds, axis=0), rtol=1e-6)
  np.testing.assert_allclose(std, np.std(preds, axis=0, ddof=0), rtol=1e-5, atol=1e-6)
  assert fit._cache_size() == 1


def test_initialisation_is_glorot_uniform_with_zero_bias():
  ens = MetaNetEnsemble(num_ensemble=2, epochs=1)
  params = ens.module.init(jax.random.PRNGKey(0), jnp.zeros((1, 40)))['params']
  limit = np.sqrt(6 / (20 + 20))
  kernel = np.asarray(params['Dense_3']['kernel'])
  assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit
  assert not np.any(params['Dense_3']['bias'])
  assert len(params) == 11  # 10 hidden layers and the output layer


def test_ensemble_learns_nasbench201():
  bench = benchmarks.load('nasbench201', 'cifar10', 200)
  archs = SPACE.sample(jax.random.PRNGKey(0), 300)
  y = bench.query(jax.random.PRNGKey(0), archs).val_error
  x = SPACE.encode(archs, 'path')
  ens = MetaNetEnsemble(epochs=100)
  params = jax.jit(ens.fit)(jax.random.PRNGKey(1), x[:200], y[:200], jnp.ones(200, bool))
  mean, _ = ens.predict(params, x[200:])
  mae = float(jnp.mean(jnp.abs(mean - y[200:])))
  baseline = float(jnp.mean(jnp.abs(jnp.median(y[:200]) - y[200:])))
  assert mae < 0.8 * baseline, (mae, baseline)
  assert scipy.stats.spearmanr(mean, y[200:]).statistic > 0.7


@pytest.mark.parametrize('field,value,message', [
    ('loss', 'huber', "unknown loss 'huber'; accepted: mae, mse, mape"),
    ('num_ensemble', 0, 'num_ensemble must be at least 1, got 0'),
])
def test_bad_settings(field, value, message):
  with pytest.raises(ValueError, match=message):
    MetaNetEnsemble(**{field: value})
