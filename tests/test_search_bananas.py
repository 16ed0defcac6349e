import numpy as np
import pytest

from bananas_jax import search, spaces

SPACE = spaces.make('nasbench201')
TINY = {'predictor': {'epochs': 10, 'num_ensemble': 3}}


def test_original_defaults():
  algo = search.make('bananas', SPACE, 150)
  assert (algo.num_init, algo.k, algo.acq_fn, algo.acq_opt, algo.encoding,
          algo.cutoff) == (10, 10, 'its', 'mutation', 'trunc_path', 40)
  predictor = algo.predictor
  assert (predictor.num_ensemble, predictor.num_layers, predictor.width, predictor.learning_rate, predictor.beta1,
          predictor.beta2, predictor.epochs, predictor.batch_size, predictor.loss) == (
              5, 10, 20, 0.01, 0.9, 0.99, 150, 32, 'mae')


def test_bananas_plus_is_bananas_with_its_own_defaults():
  plus = search.make('bananas_plus', SPACE, 150)
  assert isinstance(plus, search.Bananas)
  assert (plus.k, plus.encoding, plus.acq_opt, plus.num_random, plus.acq_fn) == (
      5, 'adjacency', 'mutation_random', 300, 'its')
  assert plus.predictor == search.make('bananas', SPACE, 150).predictor
  assert search.default_settings('bananas_plus')['k'] == 5
  with pytest.raises(ValueError, match=r'bananas_plus: total_queries - num_init \(141\) must '
                                       r'be a multiple of k \(5\)'):
    search.make('bananas_plus', SPACE, 151)


@pytest.mark.parametrize('settings', [
    {'acq_fn': 'ucb', 'acq_opt': 'random'},
    {'acq_fn': 'ei', 'acq_opt': 'mutation_random', 'encoding': 'adjacency'},
    pytest.param({'acq_fn': 'ts', 'encoding': 'path',
                  'predictor': {'epochs': 10, 'num_ensemble': 1}}, marks=pytest.mark.slow),
    {'acq_fn': 'pi', 'acq_opt': 'local_search', 'encoding': 'adjacency', 'num_climb_steps': 3},
    pytest.param({'acq_fn': 'pi', 'encoding': 'categorical',
                  'predictor': {'epochs': 10, 'num_ensemble': 3, 'loss': 'mape'}},
                 marks=pytest.mark.slow),
    {'algorithm': 'bananas_plus', 'draw_per_proposal': True},
])
def test_variants_query_new_architectures(cifar10, settings):
  algo = search.make('bananas', SPACE, 30, {**TINY, **settings})
  out = search.run_trials(algo, cifar10, [0, 1])
  assert all(len(set(r.tolist())) == 30 for r in out.rows)
  assert np.all(np.isfinite(out.val_error))


def test_too_few_candidates_are_filled_with_new_random_ones(cifar10):
  # Two mutations per parent: at most 10 candidates for k = 10 picks, some not new.
  algo = search.make('bananas', SPACE, 30, {**TINY, 'num_mutations': 2})
  out = search.run_trials(algo, cifar10, [0])
  assert len(set(out.rows[0].tolist())) == 30


@pytest.mark.slow
def test_bananas_beats_random_search(cifar10):
  algo = search.make('bananas', SPACE, 60, {'predictor': {'epochs': 50}})
  rand = search.make('random_search', SPACE, 60)
  seeds = np.arange(16)
  b = search.best_by_validation(*search.run_trials(algo, cifar10, seeds)[2:4], [60])[1]
  r = search.best_by_validation(*search.run_trials(rand, cifar10, seeds)[2:4], [60])[1]
  assert b.mean() < r.mean() - 0.1, (b.mean(), r.mean())


@pytest.mark.parametrize('settings,message', [
    ({'encoding': 'paths'}, "unknown encoding 'paths' for nasbench201; accepted: trunc_path"),
    ({'encoding': 'graph'}, "bananas: encoding 'graph' with a MetaNetEnsemble predictor"),
    ({'acq_fn': 'kg'}, "unknown acq_fn 'kg'; accepted: its, ucb, ei, pi, ts, exploit"),
    ({'acq_opt': 'evolution'}, "unknown acq_opt 'evolution'; accepted: mutation, random"),
    ({'predictor': {'loss': 'l1'}}, "unknown loss 'l1'"),
    ({'predictor': {'depth': 3}}, "unknown setting 'depth' for bananas.predictor; accepted: "
                                  'batch_size, beta1, beta2, epochs'),
    ({'num_init': 0}, r'bananas: num_init must be at least 1, got 0'),
    ({'num_mutations': 1}, r"acq_opt 'mutation' makes at most 5 candidates, fewer than k \(10\)"),
    ({'draw_per_proposal': True, 'acq_fn': 'pi'},
     "draw_per_proposal needs a randomised acq_fn, not 'pi'; accepted: its, ts"),
])
def test_bad_settings(settings, message):
  with pytest.raises(ValueError, match=message):
    search.make('bananas', SPACE, 150, settings)
