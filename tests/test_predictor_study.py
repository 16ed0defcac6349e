import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bananas_jax import predictor_study as study
from bananas_jax import spaces
from bananas_jax.configs import predictor as predictor_config
from bananas_jax.predictors import MetaNetEnsemble


def tiny_config(workdir):
  config = predictor_config.get_config()
  config.update(dict(train_sizes='10,30', num_test=40, seeds=2, scatter_size=30,
                     models='ensemble', encodings='adjacency,path', workdir=str(workdir)))
  config.ensemble.epochs = 5
  config.ensemble.num_ensemble = 2
  return config


@pytest.mark.slow
def test_study_writes_metrics_and_figure(tmp_path):
  report = study.run_predictor_study(tiny_config(tmp_path))
  rows = report['results']
  assert [(r['model'], r['encoding'], r['train_size']) for r in rows] == [
      ('ensemble', 'adjacency', 10), ('ensemble', 'adjacency', 30), ('ensemble', 'path', 10),
      ('ensemble', 'path', 30)]
  for r in rows:
    assert r['mae'] > 0 and -1 <= r['kendall_tau'] <= 1 and -1 <= r['spearman_rho'] <= 1
  assert json.loads((tmp_path / 'predictor.json').read_text())['results'] == rows
  for r in rows:
    assert 0 <= r['within_1'] <= 1
  assert (tmp_path / 'predictor.png').read_bytes()[:4] == b'\x89PNG'
  assert (tmp_path / 'predictor_mae.png').read_bytes()[:4] == b'\x89PNG'
  assert 'Kendall tau' in study.format_report(report)


def test_metrics_of_a_worked_example():
  metrics = study.prediction_metrics([5.0, 6.0, 9.5, 7.0], [5.5, 6.0, 8.0, 9.0])
  assert metrics['mae'] == pytest.approx((0.5 + 0 + 1.5 + 2) / 4)
  assert metrics['within_1'] == 0.5
  assert metrics['spearman_rho'] == pytest.approx(0.8)  # ranks 1,2,4,3 vs 1,2,3,4
  assert metrics['kendall_tau'] == pytest.approx(4 / 6)


def test_a_learning_rate_grid_in_one_program_equals_separate_fits(cifar10):
  space = cifar10.space
  train, test = study.random_split(jax.random.key(0), space, 30, 20)
  assert len(set(np.asarray(space.canonical_key(spaces.concat(train, test))).tolist())) == 50
  x_train, x_test = space.encode(train, 'adjacency'), space.encode(test, 'adjacency')
  y_train = cifar10.query(jax.random.key(0), train).val_error
  mask = jnp.ones(30, bool)
  ensemble = MetaNetEnsemble(num_ensemble=2, epochs=3)
  rates = jnp.array([0.001, 0.01])
  grid = jax.vmap(lambda lr: study.fit_predict(ensemble, jax.random.key(1), x_train, y_train,
                                               mask, x_test, lr))(rates)
  assert grid.shape == (2, 2, 20)
  for i, rate in enumerate([0.001, 0.01]):
    alone = study.fit_predict(dataclasses.replace(ensemble, learning_rate=rate),
                              jax.random.key(1), x_train, y_train, mask, x_test)
    np.testing.assert_allclose(grid[i], alone, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_every_model_enters_the_study(tmp_path):
  config = tiny_config(tmp_path)
  config.models = 'ensemble,gp,dngo,bohamiann,gcn,random_forest'
  config.encodings = 'adjacency'
  config.train_sizes = '30'
  config.dngo.epochs = config.gcn.epochs = 3
  config.bohamiann.update(num_sghmc_steps=200, num_burn_in_steps=50, keep_every=50)
  report = study.run_predictor_study(config)
  assert [(r['model'], r['encoding']) for r in report['results']] == [
      ('ensemble', 'adjacency'), ('gp', 'path'), ('dngo', 'adjacency'),
      ('bohamiann', 'adjacency'), ('gcn', 'graph'), ('random_forest', 'adjacency')]
  for r in report['results']:
    assert r['mae'] > 0 and r['seconds'] > 0 and -1 <= r['kendall_tau'] <= 1
  assert 'gcn (graph)' in study.format_report(report)


def test_the_trees_fit_on_the_real_rows_only():
  x = np.arange(40, dtype=np.float32).reshape(2, 20, 1)
  y = np.where(np.arange(20) < 10, 1.0, 99.0)[None].repeat(2, 0)  # padding: 99
  mask = jnp.broadcast_to(jnp.arange(20) < 10, (2, 20))
  pred = study._predict_over_seeds('random_forest', None, None, x, y, mask, x)
  np.testing.assert_array_equal(pred, np.ones((2, 20)))


def test_study_refuses_bad_values(tmp_path):
  config = tiny_config(tmp_path)
  config.encodings = 'adjacency,paths'
  with pytest.raises(ValueError, match="unknown encoding 'paths'"):
    study.run_predictor_study(config)
  config = tiny_config(tmp_path)
  config.models = 'ensemble,svm'
  with pytest.raises(ValueError, match="unknown model 'svm'; accepted: ensemble, gp, dngo"):
    study.run_predictor_study(config)
