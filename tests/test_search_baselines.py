import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bananas_jax import search, spaces
from bananas_jax.benchmarks import nasbench201
from bananas_jax.predictors import gp

SPACE = spaces.make('nasbench201')

@pytest.mark.slow
def test_evolution_local_search_and_tpe_beat_random_search(cifar10):
  seeds = np.arange(24)  # margins 0.45, 0.58, 0.28 over random search at 100 queries
  final = {}
  for name in ('random_search', 'evolution', 'local_search', 'tpe'):
    out = search.run_trials(search.make(name, SPACE, 100), cifar10, seeds)
    final[name] = search.best_by_validation(out.val_error, out.test_error, [100])[1].mean()
  for name in ('evolution', 'local_search', 'tpe'):
    assert final[name] < final['random_search'] - 0.15, final


def test_local_search_climbs_from_the_best_initial_cell(cifar10):
  out = search.run_trials(search.make('local_search', SPACE, 20), cifar10, [0])
  ops = nasbench201.read_table()['ops']
  best = out.rows[0, np.argmin(out.val_error[0, :10])]
  assert (ops[out.rows[0, 10]] != ops[best]).sum() == 1  # the 11th query: a neighbour


def test_neighbours_are_all_single_edits():
  arch = jnp.array([0, 1, 2, 3, 4, 0])
  nbrs = np.asarray(SPACE.neighbours(arch))
  assert nbrs.shape == (24, 6)
  assert len({tuple(n) for n in nbrs}) == 24
  assert np.all((nbrs != np.asarray(arch)).sum(1) == 1)


def numpy_posterior(d_train, d_cross, y, length_scale, amplitude, noise):
  k = amplitude**2 * np.exp(-d_train / length_scale**2) + noise * np.eye(len(y))
  ks = amplitude**2 * np.exp(-d_cross / length_scale**2)
  mu0 = y.mean()
  mean = mu0 + ks.T @ np.linalg.solve(k, y - mu0)
  var = amplitude**2 - np.sum(ks * np.linalg.solve(k, ks), axis=0)
  return mean, np.sqrt(np.maximum(var, 0))


def test_gp_posterior_matches_numpy_and_ignores_padding():
  archs = SPACE.sample(jax.random.PRNGKey(0), 12)
  x = np.asarray(SPACE.encode(archs, 'path'), np.float64)
  d = np.abs(x[:, None] - x[None]).sum(-1)
  y = np.linspace(8, 14, 12)
  model = gp.GaussianProcess(noise=1e-2)
  ref_mean, ref_std = numpy_posterior(d[:8, :8], d[:8, 8:], y[:8], 3.0, 1.5, 1e-2)
  x_train = np.concatenate([x[:8], np.ones((4, x.shape[1]))])  # 4 padded rows of junk
  y_train = np.pad(y[:8], (0, 4), constant_values=np.inf)
  params = model.fit(None, jnp.asarray(x_train, jnp.float32), jnp.asarray(y_train, jnp.float32),
                     jnp.arange(12) < 8)
  mean, std = model.predict(params, jnp.asarray(x[8:], jnp.float32))
  np.testing.assert_allclose(mean, ref_mean, rtol=1e-4)
  np.testing.assert_allclose(std, ref_std, rtol=1e-3, atol=1e-4)


def test_binary_l1_distances_are_exact():
  x = SPACE.encode(SPACE.sample(jax.random.PRNGKey(1), 30), 'path')
  np.testing.assert_array_equal(gp.binary_l1_distances(x, x), gp.l1_distances(x, x))


def test_gp_hypers_by_marginal_likelihood_pick_from_the_grid():
  archs = SPACE.sample(jax.random.PRNGKey(0), 20)
  x = SPACE.encode(archs, 'path')
  d = gp.binary_l1_distances(x, x)
  y = 10 + 3 * x[:, :5].sum(1)
  model = gp.GaussianProcess(fit_hypers=True, noise=1e-3)
  length_scale, amplitude = model.hypers(d, y, jnp.ones(20, bool))
  assert float(length_scale) in model.length_scale_grid
  assert float(amplitude) in model.amplitude_grid


def test_reinforce_policy_learns_toward_better_cells(cifar10):
  algo = search.make('reinforce', SPACE, 150, {'k': 10})
  out = search.run_trials(algo, cifar10, [0])
  assert out.val_error[0, -20:].mean() < out.val_error[0, :20].mean()


@pytest.mark.parametrize('name,settings,message', [
    ('gp_bo', {'distance': 'path'}, "setting 'distance' of gp_bo is now called 'encoding'"),
    ('gp_bo', {'predictor': {'distance': 'cosine'}},
     "gp: unknown distance 'cosine'; accepted: hamming, edits, l1"),
    ('gp_bo', {'encoding': 'nasbot'}, "gp_bo: encoding 'nasbot' with predictor.distance "
     "'hamming'; nasbot features take the distance 'l1'"),
    ('bohamiann', {'predictor': {'num_steps': 10}},
     "setting 'num_steps' of bohamiann.predictor is now called 'num_sghmc_steps'"),
    ('gp_bo', {'acq_fn': 'ts'}, "acq_fn 'ts' needs an ensemble's members"),
    ('evolution', {'tournament_size': 0}, 'tournament_size must be at least 1'),
    ('local_search', {'k': 5}, "unknown setting 'k' for local_search"),
    ('reinforce', {'baseline_decay': 1.5}, r'baseline_decay must be in \[0, 1\)'),
    ('tpe', {'gamma': 0.0}, r'tpe: gamma must be in \(0, 1\], got 0.0'),
    ('dngo', {'acq_fn': 'ts'}, "acq_fn 'ts' needs an ensemble's members; accepted here: its"),
    ('dngo', {'predictor': {'last_layer': {'grid_size': 0}}},
     'last_layer: grid_size must be at least 1, got 0'),
    ('bonas', {'encoding': 'path'}, "bonas: encoding 'path' with a BayesianGCN predictor; "
     "the 'graph' encoding is for graph networks"),
    ('npenas', {'encoding': 'graph'}, "npenas: encoding 'graph' with a MetaNetEnsemble"),
    ('gcn_predictor', {'k': 5}, r'gcn_predictor: total_queries - num_init \(17\) must be '
     r'a multiple of k \(5\)'),
    ('bohamiann', {'predictor': {'keep_every': 0}}, 'bohamiann: keep_every must be at least 1'),
])
def test_bad_settings(name, settings, message):
  with pytest.raises(ValueError, match=message):
    search.make(name, SPACE, 150, settings)


def test_variant_labels_name_their_algorithm():
  algo = search.make('bananas_adjacency', SPACE, 150,
                     {'algorithm': 'bananas', 'encoding': 'adjacency'})
  assert isinstance(algo, search.Bananas) and algo.encoding == 'adjacency'
  with pytest.raises(ValueError, match="unknown algorithm 'banana'"):
    search.make('x', SPACE, 150, {'algorithm': 'banana'})


def test_cholesky_and_solves_match_numpy():
  rng = np.random.default_rng(0)
  m = rng.normal(size=(9, 9))
  a = m @ m.T + 9 * np.eye(9)
  b = rng.normal(size=(9, 4))
  low = np.asarray(gp.cholesky(jnp.asarray(a, jnp.float32)))
  np.testing.assert_allclose(low, np.linalg.cholesky(a), rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(gp.solve_lower(jnp.asarray(low), jnp.asarray(b, jnp.float32)),
                             np.linalg.solve(low, b), rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(
      gp.solve_lower_transposed(jnp.asarray(low), jnp.asarray(b[:, 0], jnp.float32)),
      np.linalg.solve(low.T, b[:, 0]), rtol=1e-4, atol=1e-5)


# BONAS' graph network reads the DARTS graph (as the GCN predictor's does); AlphaX walks its
# decisions (as TPE does). The other loop variants read the adjacency encoding, as BANANAS
# does on DARTS (test_darts.py).
@pytest.mark.slow
@pytest.mark.parametrize('name', ['bonas', 'alphax'])
def test_the_competitors_search_the_darts_space(name):
  darts = spaces.make('darts')
  settings = {'bonas': {'predictor': {'epochs': 3, 'width': 8, 'linear_width': 4,
                                      'last_layer': {'grid_size': 3}}},
              'alphax': {'num_rollouts': 20, 'predictor': {'epochs': 10}}}[name]
  algo = search.make(name, darts, 30, settings)
  state = algo.init(jax.random.key(0))
  ask, tell = jax.jit(algo.ask, static_argnames='initial'), jax.jit(algo.tell)
  seen = set()
  for step in range(search.num_steps(algo)):
    archs = ask(jax.random.fold_in(jax.random.key(1), step), state, initial=step == 0)
    assert bool(jnp.all(darts.is_valid(archs)))
    seen.update(np.asarray(darts.canonical_key(archs)).tolist())
    fake_error = 10 + jnp.sum(archs[..., 1], axis=(1, 2)) / 10.0  # any function of the cell
    state = tell(state, archs, fake_error)
  assert len(seen) == 30
