"""BANANAS-MF's own mechanics on worked examples: its plan, the screened cells it trains in
full, the model that learns from low-fidelity results, the free features the driver hands
it and its refused settings. (That a trial alone equals it in a batch is the contract
suite's check, tests/test_algorithm_contract.py; NAS-Bench-101's four budgets are
tests/test_multifidelity.py's.)"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bananas_jax import benchmarks, experiment, search, spaces
from bananas_jax.configs import nasbench201 as config_lib
from bananas_jax.history import sample_new
from bananas_jax.search.bananas_mf import InitialRung
from bananas_jax.search.multifidelity import Evaluations, Rung

TINY = {'fidelities': [12, 200], 'predictor': {'num_ensemble': 2, 'epochs': 5}}


@pytest.fixture(scope='module')
def multi():
  return benchmarks.load_multifidelity('nasbench201', 'cifar10', 200)


def make(space, total_queries, **settings):
  return search.make('bananas_mf', space, total_queries, {**TINY, **settings})


def test_plan_screens_at_random_first_then_the_models_pools(multi):
  algorithm = make(multi.full.space, 6, num_screen=5, num_init=2, k=2, pool=3)
  assert algorithm.plan() == [InitialRung(12, 5), Rung(200, 2, source=5),
                              Rung(12, 6), Rung(200, 2, source=6),
                              Rung(12, 6), Rung(200, 2, source=6)]
  # The random rung is a step of its own even where a pool has the same size.
  assert InitialRung(12, 6) != Rung(12, 6)


def test_a_low_fidelity_result_moves_the_models_full_fidelity_ranking(multi):
  """The same history but for one 12-epoch result of cell A: told that A screened as well
  as the best cells did, the model ranks A ahead of B; told that it screened badly, behind."""
  space = multi.full.space
  algorithm = make(space, 40, predictor={'num_ensemble': 3, 'epochs': 100})
  rows = np.random.default_rng(0).permutation(len(multi.full.val_error))
  seen, (a, b) = rows[:40], rows[40:42]
  archs = multi.full.archs[np.concatenate([seen, seen[:20]])]
  epochs = jnp.array([12] * 40 + [200] * 20, jnp.int32)
  state = Evaluations.empty(space, 61).add(space, archs, epochs,
                                           multi.query(archs, epochs).val_error)
  low = multi.val_error[0][seen]
  one_arch = multi.full.archs[jnp.array([a])]

  @jax.jit
  def ranks_a_first(told_error):
    told = state.add(space, one_arch, jnp.array([12], jnp.int32), told_error[None])
    params, inputs = algorithm.fit_model(jax.random.PRNGKey(0), told)
    mean, _ = algorithm.predictor.predict(params, inputs(multi.full.archs[jnp.array([a, b])]))
    return mean[0] < mean[1]

  assert bool(ranks_a_first(low.min()))
  assert not bool(ranks_a_first(low.max()))


def test_the_driver_hands_nasbench201s_free_features_and_none_elsewhere(tmp_path):
  config = config_lib.get_config()
  config.algorithms = 'bananas_mf'
  benchmark, algorithms = experiment.build(config)
  features = algorithms['bananas_mf'].cell_features
  assert features.names == ('log_params', 'log_flops', 'log1p_synflow')
  table = benchmark.full
  rows = np.arange(0, 15625, 97)
  got = np.asarray(features(table.space, table.archs[rows]))
  columns = benchmarks.free_features('nasbench201', 'cifar10')
  for i, name in enumerate(features.names):
    want = (columns[name] - columns[name].mean()) / columns[name].std()
    np.testing.assert_allclose(got[:, i], want[rows], rtol=1e-5, atol=1e-5)
  # Equal by content (one compiled search per table), other datasets' features differ.
  again = experiment.build(config)[1]['bananas_mf']
  assert again == algorithms['bananas_mf'] and hash(again) == hash(algorithms['bananas_mf'])
  config.dataset = 'imagenet16_120'
  assert experiment.build(config)[1]['bananas_mf'].cell_features != features
  # The model's input: encoding, features, budget; without features, encoding and budget.
  mf = algorithms['bananas_mf']
  width = mf.space.encoding_dim(mf.encoding, mf.cutoff)
  assert mf.inputs(table.archs[:3], 12).shape == (3, width + 4)
  np.testing.assert_allclose(mf.inputs(table.archs[:3], 12)[:, -1], 12 / 200)
  config.bananas_mf.use_features = False
  bare = experiment.build(config)[1]['bananas_mf']
  assert bare.inputs(table.archs[:3], 200).shape == (3, width + 1)
  assert benchmarks.free_features('nasbench101', 'cifar10') == {}


def test_the_first_screening_takes_the_best_random_cells_by_free_features():
  config = config_lib.get_config()
  config.algorithms = 'bananas_mf'
  config.bananas_mf.update(num_screen=5, zero_cost_pool=40)
  benchmark, algorithms = experiment.build(config)
  algorithm, key = algorithms['bananas_mf'], jax.random.PRNGKey(3)
  state = algorithm.init(key)
  archs, epochs = jax.jit(algorithm.ask, static_argnums=2)(key, state, InitialRung(12, 5))
  drawn = sample_new(key, algorithm.space, 40, state.history.keys)
  score = np.asarray(algorithm.cell_features(algorithm.space, drawn)).mean(axis=1)
  best = np.asarray(drawn)[np.argsort(-score)[:5]]
  np.testing.assert_array_equal(archs, best)
  np.testing.assert_array_equal(epochs, [12] * 5)
  # Without features (NAS-Bench-101, or none handed over) the first screening is random.
  bare = dataclasses.replace(algorithm, cell_features=None)
  np.testing.assert_array_equal(bare.ask(key, state, InitialRung(12, 5))[0], drawn[:5])


def test_promote_all_trains_a_cell_beaten_in_its_own_pool_later(multi):
  """Screened at 12 epochs: A 10%, B 20%, C 30%, D 40%; A was trained in full. The next
  pool screens E 35% and F 50%. 'pool' trains E, the best of its pool; 'all' trains B, the
  best screened cell not yet trained in full (A, better still, already was)."""
  space = multi.full.space
  cells = multi.full.archs[jnp.arange(6)]
  low, full = jnp.array([12] * 4, jnp.int32), jnp.array([200], jnp.int32)
  state = (Evaluations.empty(space, 10)
           .add(space, spaces.take(cells, jnp.arange(4)), low, jnp.array([10., 20., 30., 40.]))
           .add(space, spaces.take(cells, jnp.array([0])), full, jnp.array([12.]))
           .add(space, spaces.take(cells, jnp.array([4, 5])), low[:2], jnp.array([35., 50.])))
  step = Rung(200, 1, source=2)
  for promote, want in (('pool', 4), ('all', 1)):
    archs, epochs = make(space, 4, promote=promote).ask(jax.random.PRNGKey(0), state, step)
    np.testing.assert_array_equal(space.canonical_key(archs),
                                  space.canonical_key(spaces.take(cells, jnp.array([want]))))
    np.testing.assert_array_equal(epochs, [200])


@pytest.mark.parametrize('settings,message', [
    ({'promote': 'best'}, r"bananas_mf: unknown promote 'best'; accepted: pool, all"),
    ({'encoding': 'graph'}, r"bananas_mf: encoding 'graph' with a MetaNetEnsemble"),
    ({'num_screen': 1, 'num_init': 2},
     r'bananas_mf: num_screen \(1\) must be at least num_init \(2\)'),
    ({'pool': 0}, r'bananas_mf: pool must be at least 1, got 0'),
    ({'zero_cost_pool': 10},
     r'bananas_mf: zero_cost_pool \(10\) must be 0 or at least num_screen \(20\)'),
])
def test_bad_settings_are_refused_naming_the_value(settings, message):
  space = benchmarks.load('nasbench201', 'cifar10', 200).space
  with pytest.raises(ValueError, match=message):
    search.make('bananas_mf', space, 10, settings)
