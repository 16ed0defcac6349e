import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bananas_jax import history
from bananas_jax import search, spaces

SPACE = spaces.make('nasbench201')


def test_queries_exactly_total_and_never_twice(cifar10):
  algo = search.make('random_search', SPACE, 150)
  out = search.run_trials(algo, cifar10, np.arange(20))
  assert out.val_error.shape == (20, 150)
  for trial in range(20):
    assert len(set(out.rows[trial].tolist())) == 150


def test_trial_depends_only_on_its_seed(cifar10):
  algo = search.make('random_search', SPACE, 50, {'num_init': 10, 'k': 20})
  batch = search.run_trials(algo, cifar10, [3, 7, 11, 12])
  alone = search.run_trials(algo, cifar10, [11])
  np.testing.assert_array_equal(batch.rows[2], alone.rows[0])
  np.testing.assert_array_equal(batch.test_error[2], alone.test_error[0])
  again = search.run_trials(algo, cifar10, [3, 7, 11, 12])
  np.testing.assert_array_equal(batch.rows, again.rows)


def test_ask_tell_step_by_step_matches_the_runner(cifar10):
  algo = search.make('random_search', SPACE, 30)
  init_key, step_root = search.runner.trial_keys([5])
  state = algo.init(init_key[0])
  rows = []
  for i in range(search.num_steps(algo)):
    ask_key, query_key = jax.random.split(jax.random.fold_in(step_root[0], i))
    archs = algo.ask(ask_key, state, initial=i == 0)
    ev = cifar10.query(query_key, archs)
    state = algo.tell(state, archs, ev.val_error)
    rows.extend(np.asarray(ev.row).tolist())
  np.testing.assert_array_equal(rows, search.run_trials(algo, cifar10, [5]).rows[0])


def test_best_by_validation_reports_like_the_paper():
  val = np.array([[5.0, 3.0, 4.0, 1.0]])
  test = np.array([[50.0, 30.0, 40.0, 10.0]])
  best_val, best_test = search.best_by_validation(val, test, [1, 2, 3, 4])
  np.testing.assert_array_equal(best_val, [[5, 3, 3, 1]])
  np.testing.assert_array_equal(best_test, [[50, 30, 30, 10]])


def test_sample_new_avoids_seen_and_repeats():
  seen = jnp.arange(15625 - 40, dtype=jnp.int32)  # only 40 cells left unseen
  archs = jax.jit(lambda k: history.sample_new(k, SPACE, 30, seen))(jax.random.PRNGKey(0))
  keys = np.asarray(SPACE.canonical_key(archs))
  assert len(set(keys.tolist())) == 30 and keys.min() >= 15625 - 40


def test_novel_marks_first_new_occurrences():
  keys = jnp.array([4, 7, 4, 9, 7, 2])
  valid = jnp.array([True, True, True, True, True, False])
  fresh = history.novel(keys, valid, seen_keys=jnp.array([9, -1]))
  assert fresh.tolist() == [True, True, False, False, False, False]
  # an invalid first occurrence does not hide a valid later one
  fresh = history.novel(jnp.array([3, 3, 3]), jnp.array([False, True, True]), jnp.array([-1]))
  assert fresh.tolist() == [False, True, False]


def test_novel_agrees_with_comparing_every_pair():
  rng = np.random.default_rng(0)
  for _ in range(50):
    keys, valid = rng.integers(0, 20, 40), rng.random(40) < 0.7
    seen = np.where(rng.random(15) < 0.3, -1, rng.integers(0, 20, 15))
    expected = [bool(valid[i] and keys[i] not in seen
                     and not any(valid[j] and keys[j] == keys[i] for j in range(i)))
                for i in range(40)]
    assert history.novel(jnp.asarray(keys), jnp.asarray(valid), jnp.asarray(seen)).tolist() == expected


@pytest.mark.parametrize('settings,message', [
    ({'num_init': 200}, r'total_queries \(150\) must be at least num_init \(200\)'),
    ({'k': 9}, r'must be a multiple of k \(9\)'),
    ({'population': 3}, "unknown setting 'population' for random_search; accepted: k, num_init"),
])
def test_bad_settings(settings, message):
  with pytest.raises(ValueError, match=message):
    search.make('random_search', SPACE, 150, settings)


def test_unknown_algorithm():
  with pytest.raises(ValueError, match="unknown algorithm 'hill_climb'; accepted: bananas, "
                                       'bananas_plus, random_search'):
    search.make('hill_climb', SPACE, 150)
