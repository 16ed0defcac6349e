import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from bananas_jax import acquisition, spaces
from bananas_jax.history import History

SPACE = spaces.make('nasbench201')
# Member predictions [M=4, C=3]: means 10, 12, 9; stds sqrt(1.25), 0, sqrt(5).
PREDS = jnp.array([[9.0, 12.0, 6.0], [11.0, 12.0, 12.0], [9.0, 12.0, 6.0], [11.0, 12.0, 12.0]])
MU, SIGMA = np.array([10.0, 12.0, 9.0]), np.array([1.0, 0.0, 3.0])


def score(acq_fn, key, y_min):
  return acquisition.score(acq_fn, key, PREDS.mean(0), PREDS.std(0), y_min, PREDS)


def test_ucb_exploit():
  np.testing.assert_allclose(score('ucb', None, 9.5), MU - 0.5 * SIGMA)
  np.testing.assert_allclose(score('exploit', None, 9.5), MU)


def test_ei_and_pi_match_the_formulas():
  s = np.maximum(SIGMA / 5, 1e-12)
  g = (9.5 - MU) / s
  ei = -s * (g * stats.norm.cdf(g) + stats.norm.pdf(g))
  np.testing.assert_allclose(score('ei', None, 9.5), ei, rtol=1e-5, atol=1e-6)
  pi = -stats.norm.cdf((9.5 - MU) / np.maximum(SIGMA, 1e-12))
  np.testing.assert_allclose(score('pi', None, 9.5), pi, rtol=1e-5)


def test_its_draws_from_each_candidate_normal():
  keys = jax.random.split(jax.random.PRNGKey(0), 20000)
  draws = np.asarray(jax.vmap(lambda k: score('its', k, 0.0))(keys))
  np.testing.assert_allclose(draws.mean(0), MU, atol=0.06)
  np.testing.assert_allclose(draws.std(0), SIGMA, atol=0.06)
  corr = np.corrcoef(draws[:, 0], draws[:, 2])[0, 1]
  assert abs(corr) < 0.05  # independent per candidate


def test_ts_is_one_member():
  keys = jax.random.split(jax.random.PRNGKey(0), 200)
  rows = {tuple(np.asarray(score('ts', k, 0.0)).tolist()) for k in keys}
  assert rows == {(9.0, 12.0, 6.0), (11.0, 12.0, 12.0)}


def history_of(keys, val_error, capacity=150):
  archs = SPACE.from_key(jnp.asarray(keys))
  return History.empty(SPACE, capacity).add(SPACE, archs, jnp.asarray(val_error, jnp.float32))


def check_new_and_unique(cands, valid, history):
  keys = np.asarray(SPACE.canonical_key(cands))[np.asarray(valid)]
  assert len(set(keys.tolist())) == len(keys)
  assert not set(keys.tolist()) & set(np.asarray(history.keys).tolist())
  return keys


def test_mutation_candidates_follow_the_original_rule():
  history = history_of(np.arange(0, 2000, 100), np.linspace(9, 20, 20))
  cands, valid = jax.jit(lambda k: acquisition.mutation_candidates(k, SPACE, history))(
      jax.random.PRNGKey(0))
  assert cands.shape == (500, 6) and valid.shape == (500,)
  check_new_and_unique(cands, valid, history)
  per_parent = np.asarray(valid).reshape(5, 100).sum(1)
  # The best parent gives fewer than 100 new cells (some mutations change nothing or
  # repeat), so the second parent is used; once 100 are kept, no further parent is.
  assert 0 < per_parent[0] < 100 and per_parent[1] > 0
  kept_before = np.cumsum(per_parent) - per_parent
  assert np.all(per_parent[kept_before >= 100] == 0)
  parent = np.asarray(SPACE.from_key(0))
  first = np.asarray(cands[:100])[np.asarray(valid[:100])]
  assert np.all((first != parent).sum(1) >= 1)  # children of the best (key 0)


def test_mutation_candidates_with_a_short_history():
  history = history_of([5, 17], [12.0, 10.0])
  cands, valid = acquisition.mutation_candidates(jax.random.PRNGKey(1), SPACE, history)
  assert not np.any(np.asarray(valid)[200:])  # no parents beyond the 2 queried
  check_new_and_unique(cands, valid, history)


def test_random_and_mutation_random_candidates():
  history = history_of(np.arange(30), np.linspace(9, 20, 30))
  cands, valid = acquisition.random_candidates(jax.random.PRNGKey(0), SPACE, history)
  assert len(check_new_and_unique(cands, valid, history)) == 200
  cands, valid = acquisition.mutation_random_candidates(jax.random.PRNGKey(0), SPACE, history)
  keys = check_new_and_unique(cands, valid, history)
  assert len(keys) == 200  # mutation gives fewer than 200 here: random ones fill up to 200
  assert np.asarray(valid)[:500].sum() < 200


def test_local_search_climbs_the_surface_to_its_optimum():
  # A surface with its minimum at the all-nor_conv_3x3 cell: the number of other ops.
  conv3 = SPACE.from_string('|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+'
                            '|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|')
  surface = lambda archs: jnp.sum(archs != conv3, axis=-1).astype(jnp.float32)
  history = history_of([0, 3000, 9000], [12.0, 10.0, 11.0])
  start = int(surface(SPACE.from_key(jnp.array([0, 3000, 9000]))).min())  # 4 edges to change
  cands, valid = jax.jit(lambda k: acquisition.local_search_candidates(
      k, SPACE, history, surface, num_parents=3, num_climb_steps=6))(jax.random.PRNGKey(0))
  assert cands.shape == (6 * 3 * 24, 6)
  keys = check_new_and_unique(cands, valid, history)
  assert int(SPACE.canonical_key(conv3)) in keys
  # Each move changes one edge to the best op: move t looks at cells start - 1 - t away.
  per_move = np.asarray(surface(cands)).reshape(6, 72).min(axis=1)
  np.testing.assert_array_equal(per_move[:start], np.arange(start - 1, -1, -1))


def test_select_with_one_draw_per_proposal_never_takes_a_candidate_twice():
  cands = SPACE.from_key(jnp.array([10, 20, 30, 40]))
  valid = jnp.array([True, True, True, False])
  # Every draw ranks candidate 3 first (invalid), then 1; later rows take what is left.
  scores = jnp.array([[5.0, 1.0, 3.0, 0.0], [5.0, 1.0, 3.0, 0.0], [2.0, 1.0, 3.0, 0.0]])
  archs, chosen = acquisition.select(jax.random.PRNGKey(0), SPACE, cands, valid, scores, 3,
                                     jnp.full(1, -1))
  np.testing.assert_array_equal(chosen, [1, 2, 0])
  np.testing.assert_array_equal(SPACE.canonical_key(archs), SPACE.canonical_key(cands)[:3][
      np.array([1, 2, 0])])
  # With one score per candidate it is the plain top k.
  _, chosen = acquisition.select(jax.random.PRNGKey(0), SPACE, cands, valid, scores[2], 3,
                                 jnp.full(1, -1))
  np.testing.assert_array_equal(chosen, [1, 0, 2])


def test_ts_is_refused_without_members():
  with pytest.raises(ValueError, match="acq_fn 'ts' needs an ensemble's members"):
    acquisition.check_acq_fn('ts', has_members=False)


@pytest.mark.parametrize('acq_fn', sorted(acquisition.ACQ_FNS))
def test_every_acquisition_function_jits(acq_fn):
  out = jax.jit(lambda k: score(acq_fn, k, 9.5))(jax.random.PRNGKey(0))
  assert out.shape == (3,) and np.all(np.isfinite(out))
