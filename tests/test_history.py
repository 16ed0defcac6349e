"""The query history (novelty, new random architectures) and the paper-style report of a
trial (best by validation)."""

import jax
import jax.numpy as jnp
import numpy as np

from bananas_jax import history
from bananas_jax import search, spaces

SPACE = spaces.make('nasbench201')


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
    marked = history.novel(jnp.asarray(keys), jnp.asarray(valid), jnp.asarray(seen))
    assert marked.tolist() == expected


