"""BananasSampler: Optuna's expectations of a sampler, both modes, and bad input."""

import os
import pathlib
import pickle
import re
import sys
import warnings

import jax
import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from bananas_jax import benchmarks, search, spaces
from bananas_jax.integrations import optuna_replay, optuna_slots, optuna_space
from bananas_jax.integrations import optuna_sampler as sampler
from bananas_jax.search import runner

sys.path.insert(0, os.path.dirname(__file__))
import optuna_worker  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)
SPACE = spaces.make('nasbench201')
EVOLUTION = dict(algorithm='evolution', settings=optuna_worker.SETTINGS, total_queries=30)


def table_objective(sign=1.0):
  evaluate = optuna_worker.objective()
  return lambda trial: sign * evaluate(trial)


def archs_of(study, space=SPACE):
  model = study.sampler._replay
  return np.stack([model.arch_of(t.params) for t in study.trials
                   if t.state == TrialState.COMPLETE])


@pytest.mark.slow
@pytest.mark.parametrize('algorithm, settings, queries', [
    ('bananas', {'predictor': {'num_ensemble': 3, 'epochs': 50}}, 30),
])
def test_sync_mode_reproduces_a_launch_search_trial(algorithm, settings, queries):
  """The objective is the table's lookup: the sampler asks what the batched runner asks.
  The sampler's side is the same for every algorithm (the contract suite steps each by
  hand as the sampler does), so one model-based search shows it."""
  table = benchmarks.load('nasbench201', 'cifar10', 200)
  trial = runner.run_trials(search.make(algorithm, SPACE, queries, settings), table, [3])
  study = optuna.create_study(sampler=sampler.BananasSampler(
      SPACE, algorithm, settings, mode='sync', total_queries=queries, seed=3))
  study.optimize(table_objective(), n_trials=queries)
  np.testing.assert_array_equal(archs_of(study), trial.archs[0])
  assert study.best_value == pytest.approx(float(trial.val_error[0].min()), abs=0)


@pytest.mark.slow
def test_async_mode_never_repeats_a_complete_or_running_trial():
  study = optuna.create_study(sampler=sampler.BananasSampler(SPACE, mode='async', **EVOLUTION))
  evaluate = table_objective()
  for _ in range(3):
    running = [study.ask() for _ in range(6)]  # six workers busy at once
    for trial in running:
      sampler.suggest(trial, SPACE)
    for trial in running:
      study.tell(trial, evaluate(trial))
  keys = SPACE.canonical_key(archs_of(study))
  assert len(set(np.asarray(keys).tolist())) == 18


def test_maximising_a_negated_objective_asks_the_same():
  runs = []
  for direction, sign in (('minimize', 1.0), ('maximize', -1.0)):
    study = optuna.create_study(direction=direction, sampler=sampler.BananasSampler(
        SPACE, mode='sync', seed=2, **EVOLUTION))
    study.optimize(table_objective(sign), n_trials=20)
    runs.append(archs_of(study))
  np.testing.assert_array_equal(*runs)


def test_a_failed_trial_is_retried_in_its_slot():
  reference = optuna.create_study(sampler=optuna_worker.make_sampler())
  reference.optimize(table_objective(), n_trials=20)
  evaluate, failed = table_objective(), []

  def flaky(trial):
    value = evaluate(trial)
    if sampler.slot_of(trial) == 12 and not failed:
      failed.append(trial.number)
      raise RuntimeError('a lost device')
    return value

  study = optuna.create_study(sampler=optuna_worker.make_sampler())
  study.optimize(flaky, n_trials=21, catch=(RuntimeError,))
  assert [t.state for t in study.trials].count(TrialState.FAIL) == 1
  np.testing.assert_array_equal(archs_of(study), archs_of(reference))
  retry, = [t for t in study.trials if t.system_attrs.get('failed_trial') == failed[0]]
  assert retry.state == TrialState.COMPLETE and retry.system_attrs[optuna_slots.SLOT] == 12


def test_a_failure_is_told_worse_than_every_measured_value():
  assert optuna_replay.told_values([3.0, None, 1.0, None]) == [3.0, 5.0, 1.0, 5.0]  # 3 + spread 2
  assert optuna_replay.told_values([2.0, None]) == [2.0, 3.0]  # a spread of at least 1
  assert optuna_replay.told_values([None, None]) == [0.0, 0.0]  # nothing measured: they tie


def choices_of(archs):
  return np.asarray(SPACE.to_choices(jax.numpy.asarray(archs)))


def neighbours_of_any(archs, others):
  """Whether each of ``archs`` is one edit away from one of ``others``."""
  a, b = choices_of(archs), choices_of(others)
  return ((a[:, None, :] != b[None, :, :]).sum(-1) == 1).any(1)


@pytest.mark.parametrize('mode', ['async', 'sync'])
def test_the_first_three_failures_are_the_worst_the_model_knows(mode, monkeypatch):
  """The first three trials fail (an out-of-memory architecture, say): every fit tells them
  worse than every measured value, no later proposal is one of their neighbours, and none
  is proposed again."""
  told = []
  tell = optuna_replay.told_values
  monkeypatch.setattr(optuna_replay, 'told_values', lambda values: told.append(
      (list(values), tell(values))) or told[-1][1])
  evaluate = table_objective()

  def out_of_memory_first(trial):
    value = evaluate(trial)
    if trial.number < 3:
      raise MemoryError('RESOURCE_EXHAUSTED: out of memory')
    return value

  study = optuna.create_study(sampler=sampler.BananasSampler(
      SPACE, mode=mode, seed=4, max_retries=0, **EVOLUTION))
  study.optimize(out_of_memory_first, n_trials=25, catch=(MemoryError,))
  model = study.sampler._replay
  failed = np.stack([model.arch_of(t.params) for t in study.trials[:3]])
  assert [t.state for t in study.trials[:3]] == [TrialState.FAIL] * 3
  proposed = np.stack([model.arch_of(t.params) for t in study.trials[10:]
                       if t.state == TrialState.COMPLETE])
  assert len(proposed) >= 10 and not neighbours_of_any(proposed, failed).any()
  assert not (choices_of(proposed)[:, None] == choices_of(failed)[None]).all(-1).any()
  fits = [(raw, values) for raw, values in told if None in raw and len(raw) > raw.count(None)]
  assert fits
  for raw, values in fits:
    measured = [v for v in raw if v is not None]
    assert all(v > max(measured) for r, v in zip(raw, values) if r is None)


@pytest.mark.parametrize('pruner', [
    optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    pytest.param(optuna.pruners.HyperbandPruner(min_resource=1, max_resource=4,
                                                reduction_factor=3), marks=pytest.mark.slow),
])
def test_pruners_prune_and_a_pruned_trial_teaches_what_it_measured(pruner, monkeypatch):
  """An objective that reports a learning curve per epoch: the pruner stops some trials, and
  the model is told each pruned trial's last intermediate value."""
  told = []
  tell = optuna_replay.told_values
  monkeypatch.setattr(optuna_replay, 'told_values', lambda values: told.append(list(values))
                      or tell(values))
  evaluate = table_objective()

  def learning_curve(trial):
    final = evaluate(trial)
    for epoch in range(1, 5):
      trial.report(final + 8.0 / epoch, epoch)
      if trial.should_prune():
        raise optuna.TrialPruned()
    return final

  study = optuna.create_study(pruner=pruner, sampler=sampler.BananasSampler(
      SPACE, mode='async', seed=1, **EVOLUTION))
  study.optimize(learning_curve, n_trials=25)
  pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
  assert pruned and len(study.trials) == 25
  last = pruned[0].intermediate_values[max(pruned[0].intermediate_values)]
  assert any(last in values for values in told)


def test_inferred_space_takes_steps_and_warns_once_about_a_continuous_parameter():
  study = optuna.create_study(sampler=sampler.BananasSampler(
      algorithm='local_search', settings={'num_init': 3}, seed=1))

  def objective(trial):
    op = trial.suggest_categorical('op', ['conv3x3', 'conv5x5', 'mbconv'])
    width = trial.suggest_int('width', 16, 64, step=16)
    drop = trial.suggest_float('drop', 0.0, 0.3, step=0.1)
    lr = trial.suggest_float('lr', 1e-4, 1e-1, log=True)
    return (op == 'mbconv') + width / 64 + drop + lr

  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    study.optimize(objective, n_trials=8)
  about_lr = [w for w in caught if "'lr'" in str(w.message)]
  assert len(about_lr) == 1 and 'RandomSampler' in str(about_lr[0].message)
  space = study.sampler.space
  assert space.decisions() == {'op': ('conv3x3', 'conv5x5', 'mbconv'),
                               'width': (16, 32, 48, 64), 'drop': (0.0, 0.1, 0.2, 0.3)}
  keys = [tuple(sorted((k, v) for k, v in t.params.items() if k != 'lr')) for t in study.trials]
  assert len(set(keys)) == 8  # local search never repeats an architecture


class _Custom(optuna.distributions.BaseDistribution):
  def to_external_repr(self, value):
    return value

  def to_internal_repr(self, value):
    return value

  def single(self):
    return False

  def _contains(self, value):
    return True


def test_bad_input_is_named():
  with pytest.raises(ValueError, match="unknown algorithm 'bohb' for BananasSampler; accepted: "
                                       "bananas, bananas_plus, random_search, evolution, "):
    sampler.BananasSampler(SPACE, 'bohb')
  with pytest.raises(ValueError, match="unknown mode 'lockstep'; accepted: async, sync"):
    sampler.BananasSampler(SPACE, mode='lockstep')
  with pytest.raises(ValueError, match="mode='sync' needs the space up front"):
    sampler.BananasSampler(mode='sync')
  with pytest.raises(ValueError, match='at least one decision'):
    sampler.BananasSampler({})
  with pytest.raises(ValueError, match="decision 'op' lists option 'a' more than once"):
    sampler.BananasSampler({'op': ['a', 'b', 'a']})
  with pytest.raises(TypeError, match="parameter 'x' has a _Custom, which BananasSampler "
                                      "cannot take; accepted: CategoricalDistribution"):
    optuna_space.space_from_distributions({'x': _Custom()})
  study = optuna.create_study(directions=['minimize', 'minimize'],
                              sampler=sampler.BananasSampler(SPACE))
  with pytest.raises(ValueError, match='multi-objective'):
    study.optimize(lambda t: (sampler.suggest(t, SPACE)[0], 0.0), n_trials=1)


def test_suggest_returns_the_architecture_of_the_params():
  study = optuna.create_study(sampler=sampler.BananasSampler(SPACE, seed=0, **EVOLUTION))
  trial = study.ask()
  arch = sampler.suggest(trial, SPACE)
  assert SPACE.to_string(arch) == '+'.join(
      '|' + '|'.join(f'{trial.params[f"edge_{s}_{d}"]}~{s}' for s in range(d)) + '|'
      for d in (1, 2, 3))
  assert jax.numpy.asarray(arch).shape == (6,)


@pytest.mark.slow
def test_the_readme_example_runs(tmp_path, monkeypatch):
  readme = (pathlib.Path(__file__).parents[1] / 'README.md').read_text()
  example = re.search(r'<!-- readme-optuna.*?-->\n```python\n(.*?)```', readme, re.S).group(1)
  assert example.count('n_trials=30') == 1
  example = example.replace('n_trials=30', 'n_trials=12')  # the suite's time budget
  monkeypatch.chdir(tmp_path)
  namespace = {}
  exec(compile(example, 'README.md', 'exec'), namespace)
  study = namespace['study']
  assert len(study.trials) == 12 and (tmp_path / 'nas.db').exists()
  assert study.best_params['stage1_op'] == 'mbconv' and study.best_value < 0.5


def test_a_pickled_sampler_asks_the_same():
  """Ray Tune saves its searcher (the study and its sampler) with pickle."""
  study = optuna.create_study(sampler=sampler.BananasSampler(SPACE, mode='sync', seed=4,
                                                             **EVOLUTION))
  study.optimize(table_objective(), n_trials=12)
  copy = pickle.loads(pickle.dumps(study.sampler))
  told = [t.value for t in study.trials[:10]]
  proposal = lambda s: s._replay.sync_proposal(1, told)
  np.testing.assert_array_equal(proposal(copy), proposal(study.sampler))


# Optuna's own checks of every sampler (its tests/samplers_tests/test_samplers.py), as they
# apply to a relative sampler over categorical decisions.

def test_reseed_rng_reseeds_the_independent_sampler_only():
  """Proposals are a function of the seed and the study's trials, so that every worker
  computes the same; only the sampler of the parameters outside the space is reseeded."""
  bananas = sampler.BananasSampler(SPACE, seed=3, **EVOLUTION)
  state = lambda: bananas.independent_sampler._rng.rng.get_state()[1].copy()
  before = state()
  bananas.reseed_rng()
  assert not np.array_equal(state(), before)
  assert bananas.seed == 3


def test_an_enqueued_architecture_is_evaluated_as_given():
  fixed = {name: options[i % len(options)]
           for i, (name, options) in enumerate(sampler.decisions_of(SPACE).items())}
  for mode in ('async', 'sync'):
    study = optuna.create_study(sampler=sampler.BananasSampler(SPACE, mode=mode, seed=1,
                                                               **EVOLUTION))
    study.optimize(table_objective(), n_trials=3)
    study.enqueue_trial(fixed)
    study.optimize(table_objective(), n_trials=2)
    assert study.trials[3].params == fixed and study.trials[3].state == TrialState.COMPLETE


def test_threads_of_one_study_never_ask_the_same_architecture():
  study = optuna.create_study(sampler=sampler.BananasSampler(SPACE, seed=2, **EVOLUTION))
  study.optimize(table_objective(), n_trials=16, n_jobs=2)
  assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 16
  assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 16


@pytest.mark.slow
def test_studies_sharing_one_sampler_ask_what_each_would_alone():
  """A proposal is a function of the seed and the study's trials: one sampler serving two
  studies asks each what a sampler of the same seed asks it alone; another seed asks
  otherwise."""
  shared = sampler.BananasSampler(SPACE, seed=5, **EVOLUTION)
  first, second = (optuna.create_study(sampler=shared) for _ in range(2))
  first.optimize(table_objective(), n_trials=12)  # 10 random, then the algorithm's
  second.optimize(table_objective(1.5), n_trials=12)
  first.optimize(table_objective(), n_trials=3)
  alone = optuna.create_study(sampler=sampler.BananasSampler(SPACE, seed=5, **EVOLUTION))
  alone.optimize(table_objective(), n_trials=15)
  assert [t.params for t in first.trials] == [t.params for t in alone.trials]
  other = optuna.create_study(sampler=sampler.BananasSampler(SPACE, seed=6, **EVOLUTION))
  other.optimize(table_objective(), n_trials=15)
  assert [t.params for t in other.trials] != [t.params for t in alone.trials]


def test_mixed_type_choices_and_none():
  choices = [None, 'relu', 1, 2.5]
  study = optuna.create_study(sampler=sampler.BananasSampler(
      {'act': choices, 'depth': [2, 4]}, algorithm='local_search', settings={'num_init': 3},
      seed=0))

  def objective(trial):
    act, depth = trial.suggest_categorical('act', choices), trial.suggest_categorical(
        'depth', [2, 4])
    return choices.index(act) + depth

  study.optimize(objective, n_trials=8)  # the whole space: local search never repeats
  seen = [t.params['act'] for t in study.trials if t.state == TrialState.COMPLETE]
  assert all(any(a is c or (type(a) is type(c) and a == c) for c in choices) for a in seen)
  assert study.best_params == {'act': None, 'depth': 2}
  assert len({(repr(t.params['act']), t.params['depth']) for t in study.trials}) == 8
  # Optuna tells a choice by equality, so True would come back as 1: such a space is refused.
  with pytest.raises(ValueError, match=r"decision 'act' has options 1 and True, which compare "
                                       r'equal: Optuna cannot tell them apart'):
    sampler.BananasSampler({'act': [1, 'relu', True]})


def test_a_replay_that_begins_as_the_last_one_tells_only_the_rest():
  """The sampler replays a study's finished trials at every ask; the state after each step
  is kept, and anything told differently (a failure's penalty moves) is told again."""
  algorithm = search.make('evolution', SPACE, 30, optuna_worker.SETTINGS)
  archs = list(np.asarray(SPACE.sample(jax.random.key(0), 22)))
  told = [float(v) for v in np.linspace(5.0, 10.0, 22)]
  replay = optuna_replay.Replay(SPACE, algorithm, seed=0)
  tells = []
  tell = replay._tell
  replay._tell = lambda *args: tells.append(len(args[1])) or tell(*args)
  same = lambda a, b: all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a),
                                                                jax.tree.leaves(b)))
  replay.replay(archs[:20], told[:20])
  assert tells == [10, 5, 5]  # num_init, then steps of k
  tells.clear()
  state = replay.replay(archs, told)
  fresh = lambda: optuna_replay.Replay(SPACE, algorithm, 0).replay(archs, told)
  assert tells == [2] and same(state, fresh())
  tells.clear()
  told[12] = 50.0  # e.g. a failure's penalty, once a worse value was measured
  state = replay.replay(archs, told)
  assert tells == [5, 5, 2] and same(state, fresh())
