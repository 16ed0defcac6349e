"""AlphaX's tree search: visit counts and rewards backed up by hand, selection by UCT,
expansion of untried options, and the meta network choosing among rollouts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bananas_jax import search, spaces

SPACE = spaces.make('nasbench201')


def make(**settings):
  return search.make('alphax', SPACE, 13, {'num_init': 3, **settings})


def test_backing_up_counts_visits_and_sums_accuracies_along_each_path():
  algo = make()
  archs = jnp.array([[0, 1, 2, 3, 4, 0], [0, 4, 4, 4, 4, 4], [1, 1, 1, 1, 1, 1]])
  state = algo.tell(algo.init(jax.random.key(0)), archs, jnp.array([10.0, 20.0, 50.0]))
  tree = state.tree
  # each query adds the first node of its path that is new: (0), then (0, 4) under it,
  # then (1)
  assert int(tree.size) == 4
  assert tree.children[0, :5].tolist() == [1, 3, -1, -1, -1]
  assert tree.children[1, :5].tolist() == [-1, -1, -1, -1, 2]
  np.testing.assert_allclose(tree.visits[:4], [3, 2, 1, 1])
  np.testing.assert_allclose(tree.reward[:4], [0.9 + 0.8 + 0.5, 0.9 + 0.8, 0.8, 0.5],
                             rtol=1e-6)
  state = algo.tell(state, jnp.array([[0, 2, 0, 0, 0, 0]]), jnp.array([30.0]))
  tree = state.tree
  assert int(tree.size) == 5 and int(tree.children[1, 2]) == 4
  np.testing.assert_allclose(tree.visits[:5], [4, 3, 1, 1, 1])
  np.testing.assert_allclose(tree.reward[4], 0.7, rtol=1e-6)
  assert int(state.history.count) == 4


def test_selection_expands_an_untried_option_then_follows_uct():
  algo = make(exploration=0.0)  # pure exploitation: the best mean accuracy
  state = algo.init(jax.random.key(0))
  firsts = jnp.array([[op, 0, 0, 0, 0, 0] for op in (0, 1, 2)])
  state = algo.tell(state, firsts, jnp.array([30.0, 10.0, 20.0]))
  for seed in range(5):  # options 3 and 4 of the root are untried
    prefix = np.asarray(algo.expand_prefix(jax.random.key(seed), state.tree))
    assert prefix[0] in (3, 4) and np.all(prefix[1:] == -1)
  state = algo.tell(state, jnp.array([[3, 0, 0, 0, 0, 0], [4, 0, 0, 0, 0, 0]]),
                    jnp.array([40.0, 40.0]))
  prefix = np.asarray(algo.expand_prefix(jax.random.key(0), state.tree))
  assert prefix[0] == 1  # every root option tried: the child with the best accuracy
  assert prefix[1] in (1, 2, 3, 4) and np.all(prefix[2:] == -1)  # its untried options
  explore = make(exploration=10.0)  # exploration dominates: the least visited
  state = explore.tell(state, jnp.array([[1, 1, 0, 0, 0, 0]]), jnp.array([10.0]))
  assert int(np.asarray(explore.expand_prefix(jax.random.key(0), state.tree))[0]) != 1


@pytest.mark.slow
def test_the_query_completes_the_expanded_prefix_with_the_best_predicted_rollout(cifar10):
  algo = make(num_rollouts=50, predictor={'epochs': 30})
  state = algo.init(jax.random.key(0))
  archs = SPACE.sample(jax.random.key(1), 3)
  state = algo.tell(state, archs, cifar10.query(jax.random.key(2), archs).val_error)
  key = jax.random.key(3)
  chosen, predicted = algo.propose(key, state)
  prefix = np.asarray(algo.expand_prefix(jax.random.split(key, 4)[0], state.tree))
  decided = prefix >= 0
  np.testing.assert_array_equal(np.asarray(chosen)[0, decided], prefix[decided])
  assert np.isfinite(predicted).all()


@pytest.mark.parametrize('settings, message', [
    ({'k': 2}, 'alphax: k must be 1'),
    ({'num_rollouts': 0}, 'alphax: num_rollouts must be at least 1, got 0'),
    ({'exploration': -1.0}, 'alphax: exploration must be non-negative, got -1.0'),
    ({'encoding': 'graph'}, "alphax: encoding 'graph' with a MetaNetEnsemble predictor"),
])
def test_bad_settings(settings, message):
  with pytest.raises(ValueError, match=message):
    make(**settings)
