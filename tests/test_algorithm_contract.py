"""The contract every registered search algorithm keeps, checked for each of
``search.ALGORITHMS`` (a new algorithm is covered by registering it and giving it small
settings below):

- it is registered under its own ``name``, and its config section builds it;
- a trial's queries depend on its seed alone: run alone (by hand through
  ``init / ask / tell``, or through the runner) or in a batch, it asks the same
  architectures;
- it makes exactly ``total_queries`` queries, never one twice (but on-policy REINFORCE, and
  the multi-fidelity searches, which retrain an architecture at a higher fidelity);
- bad settings are refused with the algorithm's name and the value.
"""

import jax
import numpy as np
import pytest

from bananas_jax import benchmarks, search, spaces
from bananas_jax.search import runner

SPACE = spaces.make('nasbench201')
TINY_ENSEMBLE = {'epochs': 10, 'num_ensemble': 3}
# Small settings per algorithm, so that each check runs in seconds.
SMALL = {
    'bananas': {'predictor': TINY_ENSEMBLE},
    'bananas_plus': {'predictor': TINY_ENSEMBLE},
    'random_search': {'k': 5},
    'evolution': {},
    'local_search': {},
    'gp_bo': {'k': 5},
    'reinforce': {'k': 5},
    'tpe': {'k': 5},
    'dngo': {'k': 5, 'predictor': {'epochs': 20, 'last_layer': {'grid_size': 5}}},
    'bohamiann': {'k': 5, 'predictor': {'num_sghmc_steps': 300, 'num_burn_in_steps': 100,
                                        'keep_every': 50}},
    'bonas': {'predictor': {'epochs': 3, 'width': 8, 'linear_width': 4,
                            'last_layer': {'grid_size': 3}}},
    'gcn_predictor': {'num_init': 10, 'k': 10, 'num_random': 100,
                      'predictor': {'epochs': 3, 'width': 8, 'linear_width': 4}},
    'npenas': {'k': 5, 'predictor': {'epochs': 10}},
    'alphax': {'num_rollouts': 20, 'predictor': {'epochs': 10}},
    'successive_halving': {},
    'hyperband': {},
    'asha': {},
    'bohb': {},
    'bananas_prefilter': {'k': 5, 'predictor': TINY_ENSEMBLE},
    'bananas_mf': {'k': 5, 'num_init': 5, 'predictor': TINY_ENSEMBLE},
}
QUERIES = 20
# These compile a model's fit into every step: the slow tier runs them.
SLOW = ('bananas_plus', 'bohamiann', 'bonas', 'gcn_predictor', 'alphax', 'dngo', 'npenas',
        'hyperband', 'bohb', 'bananas_prefilter', 'bananas_mf')
REPEATS_QUERIES = ('reinforce',)  # on-policy: it may sample a cell it has seen


def test_every_algorithm_has_small_settings_here():
  assert set(SMALL) == set(search.ALGORITHMS)


def each_algorithm():
  return [pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name
          for name in search.ALGORITHMS]


@pytest.fixture(scope='module')
def multi_fidelity():
  return benchmarks.load_multifidelity('nasbench201', 'cifar10', 200)


def make_small(name, multi_fidelity):
  """``(algorithm, the benchmark it queries)``."""
  algorithm = search.make(name, SPACE, QUERIES, SMALL[name])
  if search.is_multi_fidelity(algorithm):
    return search.with_fidelities(algorithm, multi_fidelity.fidelities), multi_fidelity
  return algorithm, multi_fidelity.full


@pytest.mark.parametrize('name', search.ALGORITHMS)
def test_registered_under_its_name_and_built_from_its_section(name):
  cls = search.ALGORITHMS[name]
  assert cls.name == name
  built = search.make(name, SPACE, 150, search.default_settings(name))
  assert built == search.make(name, SPACE, 150) and type(built) is cls


@pytest.mark.parametrize('name', each_algorithm())
def test_a_trials_queries_depend_on_its_seed_alone(name, multi_fidelity):
  """Trial 3 asks the same in a batch of five as alone, stepped by hand through
  ``init / ask / tell`` (as a search of real trainings runs it); for the slow model-based
  searches (whose ``propose`` ``bananas`` already steps by hand), as in another batch of five
  at another place, on the other device, beside other trials: the same compiled program,
  so to the bit, predictions included (a batch of another size: test_runner_devices.py).
  The batch makes exactly ``total_queries`` queries, none twice."""
  algorithm, benchmark = make_small(name, multi_fidelity)
  batch = search.run_trials(algorithm, benchmark, [0, 1, 2, 3, 4])
  if name in SLOW:
    other = search.run_trials(algorithm, benchmark, [9, 3, 8, 7, 6])
    for field in ('rows', 'val_error', 'epochs', 'predicted'):
      np.testing.assert_array_equal(getattr(batch, field)[3], getattr(other, field)[1])
  else:
    np.testing.assert_array_equal(by_hand(algorithm, benchmark, 3), batch.rows[3])

  full = batch.epochs == benchmark_fidelity(benchmark)
  assert np.all(np.isfinite(batch.val_error))
  if name in ('bananas_prefilter', 'bananas_mf'):  # total_queries counts full-fidelity ones
    np.testing.assert_array_equal(full.sum(1), QUERIES)
  else:
    assert batch.rows.shape == (5, QUERIES)
  if name not in REPEATS_QUERIES:
    for rows, epochs in zip(batch.rows, batch.epochs):
      pairs = list(zip(rows.tolist(), epochs.tolist()))
      assert len(set(pairs)) == len(pairs)


def benchmark_fidelity(benchmark):
  return benchmark.fidelities[-1] if hasattr(benchmark, 'fidelities') else benchmark.fidelity


def by_hand(algorithm, benchmark, seed):
  """A trial through ``init / ask / tell`` from Python, as a search of real trainings is."""
  multi = search.is_multi_fidelity(algorithm)
  init_key, step_root = runner.trial_keys([seed])
  state = algorithm.init(init_key[0])
  ask = jax.jit(algorithm.ask, static_argnums=2)
  tell = jax.jit(algorithm.tell, static_argnums=4 if multi else ())
  rows = []
  for i, step in enumerate(runner.steps_of(algorithm)):
    ask_key, query_key = jax.random.split(jax.random.fold_in(step_root[0], i))
    if multi:
      archs, epochs = ask(ask_key, state, step)
      evaluation = benchmark.query(archs, epochs)
      state = tell(state, archs, epochs, evaluation, step)
    else:
      archs = ask(ask_key, state, step)
      evaluation = benchmark.query(query_key, archs)  # a training, in a real search
      state = tell(state, archs, evaluation.val_error)
    rows.extend(np.asarray(evaluation.row).tolist())
  return rows


@pytest.mark.parametrize('name', search.ALGORITHMS)
def test_bad_settings_are_refused_with_the_algorithms_name(name):
  with pytest.raises(ValueError, match=f"unknown setting 'no_such_field' for {name}; "
                                       f'accepted: '):
    search.make(name, SPACE, 150, {'no_such_field': 1})
  with pytest.raises(ValueError, match=f'{name}: total_queries'):
    search.make(name, SPACE, 0)


def test_unknown_algorithm_names_the_accepted_ones():
  with pytest.raises(ValueError, match="unknown algorithm 'banana'; accepted: bananas, "):
    search.make('banana', SPACE, 150)
