"""Who leads a comparison (results.compare, experiments/leaders.py) on records made by hand: paired differences, verdicts, the queries
until the best-validation cell, and the query axis."""

import math

import pytest

from bananas_jax import results as leaders

REFERENCE = {'full_training_s': 10.0, 'val_optimum_index': 7}


def record(seed, trace, best_index):
  return {'seed': seed, 'cost_trace': trace, 'best_index': best_index}


def runs(candidate_tests, other_tests):
  """One answer per trial, paid for after 5 s (before the first budget, 10 trainings)."""
  make = lambda tests, index: {s: record(s, [[5.0, 1.0, t, 4, 2.5]], index)
                               for s, t in enumerate(tests)}
  return {'mf': make(candidate_tests, 7), 'ls': make(other_tests, 3)}


def test_verdicts_come_from_the_paired_differences():
  # Differences -0.1, -0.2, -0.3: mean -0.2, standard error 0.1 / sqrt(3).
  report = leaders.compare(REFERENCE, runs([5.0, 5.1, 5.2], [5.1, 5.3, 5.5]), 'mf', 'ls', 3)
  cell = report['budgets'][0]
  assert cell['best_other'] == 'ls' and cell['verdict'] == 'leads'
  assert cell['difference'] == pytest.approx(-0.2)
  assert cell['difference_stderr'] == pytest.approx(0.1 / math.sqrt(3))
  # By validation error (every answer here validates at 1.0): no difference.
  assert cell['validation']['difference'] == 0 and cell['validation']['verdict'] == 'ties'
  # Differences +0.1, -0.1, 0: within one standard error.
  tied = leaders.compare(REFERENCE, runs([5.1, 5.0, 5.0], [5.0, 5.1, 5.0]), 'mf', 'ls', 3)
  assert tied['budgets'][-1]['verdict'] == 'ties'
  behind = leaders.compare(REFERENCE, runs([5.2, 5.3, 5.4], [5.0, 5.0, 5.0]), 'mf', 'ls', 3)
  assert behind['budgets'][2]['verdict'] == 'behind'


def test_queries_to_the_best_validation_cell_and_the_query_axis():
  trace = [[5.0, 2.0, 6.0, 1, 1.5], [20.0, 1.0, 5.0, 3, 4.0]]
  assert leaders.queries_to_optimum(record(0, trace, 7), 7) == 3
  assert leaders.queries_to_optimum(record(0, trace, 2), 7) == math.inf
  assert leaders.at_queries(record(0, trace, 7), 3.9) == 6.0  # the second is not yet paid
  assert leaders.at_queries(record(0, trace, 7), 4.0) == 5.0
  assert math.isnan(leaders.at_queries(record(0, trace, 7), 1.0))
  report = leaders.compare(REFERENCE, runs([5.0, 5.1, 5.2], [5.1, 5.3, 5.5]), 'mf', 'ls', 3)
  assert report['median_full_queries_to_best_validation_cell'] == 4
  assert report['query_axis']['difference'] == pytest.approx(-0.2)


def test_against_one_algorithm_instead_of_the_best_other():
  three = runs([5.0, 5.1, 5.2], [5.1, 5.3, 5.5])
  three['sh'] = {s: record(s, [[5.0, 1.0, t, 4, 2.5]], 3) for s, t in enumerate([4, 4, 4])}
  best = leaders.compare(REFERENCE, three, 'mf', 'ls', 3)['budgets'][0]
  assert best['best_other'] == 'sh' and best['verdict'] == 'behind'
  chosen = leaders.compare(REFERENCE, three, 'mf', 'ls', 3, against='ls')['budgets'][0]
  assert chosen['best_other'] == 'ls' and chosen['verdict'] == 'leads'
  assert chosen['difference'] == pytest.approx(-0.2)
  with pytest.raises(ValueError, match=r"against 'bo' has no records here; the algorithms "
                                       r"are ls, mf, sh"):
    leaders.compare(REFERENCE, three, 'mf', 'ls', 3, against='bo')


def test_unpaired_seeds_are_refused():
  both = runs([5.0, 5.1], [5.1, 5.3])
  del both['ls'][1]
  with pytest.raises(ValueError, match=r'ls has no record for seeds \[1\]'):
    leaders.compare(REFERENCE, both, 'mf', 'ls', 3)
