"""BANANAS (and every other single-fidelity search of this project) as an Optuna sampler.

    sampler = BananasSampler({'op': ['conv3x3', 'conv5x5', 'mbconv'], 'width': [16, 32, 64]})
    study = optuna.create_study(sampler=sampler, storage='sqlite:///study.db')
    study.optimize(objective, n_trials=150)

The space is a search space of this project (a :class:`~bananas_jax.spaces.CellSpace`,
NAS-Bench-201, a :class:`~bananas_jax.spaces.CategoricalSpace`, any space with ``choices``),
a ``{name: [options]}`` mapping, or ``None``: then, as Optuna's relative samplers do, it is
inferred from the completed trials (categorical distributions, integer ones, stepped floats;
a continuous float goes to ``independent_sampler``, with one warning naming it). An
objective asks for the decisions with ``trial.suggest_categorical(name, options)`` (or
:func:`suggest`, which returns the architecture).

Two modes, both with every worker of a study on any storage computing the same thing from
the same trials, so no worker holds state the others lack:

* ``'async'`` (default): a free worker fits the model on every finished trial and takes
  the best candidate that no COMPLETE, RUNNING or WAITING trial holds (the first
  ``num_init`` trials are random). Workers never wait.
* ``'sync'``: the paper's steps, reproducing a ``launch.search`` trial of the same seed when
  the objective is the benchmark's table. The ``m``-th trial a worker creates (trials are
  numbered by the storage, so ``m`` is unique) evaluates slot ``m`` of the schedule: the
  ``num_init`` random architectures, then ``k`` per step, each step asked of the algorithm
  after every earlier step finished (the trial waits for that, polling the storage). A
  trial that fails is queued again (``max_retries`` times; ``None``: always) and resumes its
  slot; a worker
  killed mid-trial is found by Optuna's heartbeats and its trial retried the same way on a
  storage from :func:`open_storage` with ``heartbeat_interval`` (Optuna's
  ``RetryHeartbeatStaleTrialCallback(max_retry=max_retries)``). A waiting trial that sees
  a retried trial queued for an earlier step hands its slot to a new queued trial and ends
  PRUNED, so its worker runs the retry. Once every slot is taken, a further trial waits for
  the last step, then ends PRUNED and stops its worker's ``optimize`` loop.

Values are told as the study's direction says (maximised values negated, the algorithms
minimise). What a finished trial tells the model
(:func:`~bananas_jax.integrations.optuna_replay.told_values`):

* COMPLETE: its value;
* PRUNED: what it measured, its last reported intermediate value (a pruned trial without
  one is a failure);
* FAIL (in sync mode, once its retries are exhausted): a penalty worse than every measured
  value, the worst plus their spread (at least 1), recomputed at every fit. A failed
  architecture is thus the worst the model knows, the search climbs away from it, and,
  being in the history, it is never proposed again.
"""

import threading
import time
import warnings

import jax
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

from bananas_jax import search, spaces
from bananas_jax.integrations import optuna_replay, optuna_slots, optuna_space, optuna_storage
# The parts of the sampler's interface that live in its modules, for users' one import.
from bananas_jax.integrations.optuna_slots import slot_of
from bananas_jax.integrations.optuna_space import decisions_of, suggest
from bananas_jax.integrations.optuna_storage import open_storage

__all__ = ['ALGORITHMS', 'MODES', 'BananasSampler', 'decisions_of', 'open_storage', 'slot_of',
           'suggest']

# A sampler answers one trial at one fidelity: it runs the single-fidelity searches.
ALGORITHMS = tuple(name for name, cls in search.ALGORITHMS.items()
                   if not search.is_multi_fidelity(cls))
MODES = ('async', 'sync')
_FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)
_IN_FLIGHT = (TrialState.RUNNING, TrialState.WAITING)


class BananasSampler(optuna.samplers.BaseSampler):
  """An Optuna sampler running one of :data:`ALGORITHMS` (see the module docstring).

  ``settings`` is the algorithm's config section (``{'k': 5, 'predictor': {'num_ensemble':
  3}}``); the encoding defaults to the space's first where the algorithm's default does
  not apply. ``total_queries`` sizes the algorithm's history (more trials are refused);
  ``seed`` makes its proposals; ``wait_timeout_s`` bounds a sync trial's wait.
  """

  def __init__(self, space=None, algorithm='bananas', settings=None, mode='async',
               total_queries=150, seed=0, independent_sampler=None, max_retries=3,
               wait_timeout_s=24 * 3600.0, poll_s=0.5, max_options=100):
    if algorithm not in ALGORITHMS:
      raise ValueError(f'unknown algorithm {algorithm!r} for BananasSampler; accepted: '
                       f'{", ".join(ALGORITHMS)}')
    if mode not in MODES:
      raise ValueError(f'unknown mode {mode!r}; accepted: {", ".join(MODES)}')
    if mode == 'sync' and space is None:
      raise ValueError("mode='sync' needs the space up front (space=...): every worker "
                       'computes the same schedule from the first trial on')
    if max_retries is not None and max_retries < 0:
      raise ValueError(f'max_retries must be a non-negative integer or None, got {max_retries}')
    self.algorithm_name, self.settings, self.mode = algorithm, dict(settings or {}), mode
    self.total_queries, self.seed, self.max_retries = total_queries, seed, max_retries
    self.wait_timeout_s, self.poll_s, self.max_options = wait_timeout_s, poll_s, max_options
    self.independent_sampler = independent_sampler or optuna.samplers.RandomSampler(seed=seed)
    self._warned = set()
    self._lock = threading.Lock()
    self._beaten = set()  # trials given a heartbeat by _beat_once_for_the_silent
    self._fixed_space = space is not None
    self._replay = None
    if space is not None:
      self._set_space(spaces.CategoricalSpace.from_decisions(space)
                      if isinstance(space, dict) else space)

  def __getstate__(self):
    """Pickled without its lock and compiled functions (Ray Tune saves its searcher)."""
    return dict(self.__dict__, _lock=None, _replay=None, space_=self.space)

  def __setstate__(self, state):
    space = state.pop('space_')
    self.__dict__.update(state)
    self._lock = threading.Lock()
    if space is not None:
      self._set_space(space)

  # The space and the algorithm ---------------------------------------------------------

  def _set_space(self, space):
    optuna_space.check_distinct(space)
    settings = dict(self.settings)
    defaults = search.default_settings(self.algorithm_name)
    encoding = defaults.get('encoding')
    if encoding is not None and 'encoding' not in settings and encoding not in space.encodings:
      settings['encoding'] = space.encodings[0]
    total = self.total_queries
    if self.mode == 'async':  # a history capacity only: rounded up to a whole schedule
      num_init = settings.get('num_init', defaults['num_init'])
      k = settings.get('k', defaults.get('k', 1))  # local search: 1, not a setting
      total = num_init + k * -(-max(total - num_init, 0) // k)
    algorithm = search.make(self.algorithm_name, space, total, settings)
    self._replay = optuna_replay.Replay(space, algorithm, self.seed)

  @property
  def space(self):
    return None if self._replay is None else self._replay.space

  @property
  def algorithm(self):
    return None if self._replay is None else self._replay.algorithm

  def step_of(self, slot):
    """``(step, index within the step)`` of a schedule slot."""
    return self._replay.step_of(slot)

  def infer_relative_search_space(self, study, trial):
    self._raise_error_if_multi_objective(study)
    if self._fixed_space:
      return {name: CategoricalDistribution(options)
              for name, options in decisions_of(self.space).items()}
    inferred = optuna.search_space.intersection_search_space(
        study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    space, left_out = optuna_space.space_from_distributions(inferred, self.max_options)
    for name in left_out:
      self._warn_once(name, f'BananasSampler models categorical and stepped parameters; '
                            f'{name!r} ({inferred[name]}) is sampled by '
                            f'{type(self.independent_sampler).__name__}')
    if space is None:
      return {}
    with self._lock:
      if self.space != space:
        self._set_space(space)
    return {name: inferred[name] for name in space.names}

  def sample_relative(self, study, trial, search_space):
    if not search_space or self._replay is None:
      return {}
    if self.mode == 'sync':
      arch = self._sync_arch(study, trial)
    else:
      with self._lock:  # workers of study.optimize(n_jobs=...) share the sampler
        arch = self._async_arch(study, trial)
    return self._replay.params_of(arch)

  def sample_independent(self, study, trial, param_name, param_distribution):
    if self._fixed_space:
      self._warn_once(param_name, f'{param_name!r} is not a decision of the space '
                                  f'{self.space.name}; it is sampled by '
                                  f'{type(self.independent_sampler).__name__}')
    return self.independent_sampler.sample_independent(study, trial, param_name,
                                                       param_distribution)

  def reseed_rng(self):
    self.independent_sampler.reseed_rng()

  def after_trial(self, study, trial, state, values):
    """In sync mode a failed trial (an exception, a worker leaving) is queued again."""
    if self.mode == 'sync' and state == TrialState.FAIL:
      history = trial.system_attrs.get('retry_history', [])
      if self.max_retries is None or len(history) < self.max_retries:
        study.add_trial(optuna.trial.create_trial(
            state=TrialState.WAITING, params=trial.params, distributions=trial.distributions,
            user_attrs=trial.user_attrs, system_attrs={
                **trial.system_attrs, 'failed_trial': history[0] if history else trial.number,
                'retry_history': history + [trial.number]}))
    self.independent_sampler.after_trial(study, trial, state, values)

  def _warn_once(self, name, message):
    if name not in self._warned:
      self._warned.add(name)
      warnings.warn(message, stacklevel=3)

  def _oriented(self, study, value):
    """A trial's value as the algorithms see it: lower is better."""
    return -value if study.direction == optuna.study.StudyDirection.MAXIMIZE else value

  def _measured(self, study, trial):
    """What a finished trial measured, oriented: a completed trial's value, a pruned one's
    last reported intermediate value; None for a failure (or a pruned trial that reported
    nothing)."""
    if trial.state == TrialState.COMPLETE:
      return self._oriented(study, trial.value)
    if trial.state == TrialState.PRUNED and trial.intermediate_values:
      last = max(trial.intermediate_values)
      return self._oriented(study, trial.intermediate_values[last])
    return None

  # Asynchronous: fit on what finished, take the best candidate nobody holds --------------

  def _async_arch(self, study, trial):
    model = self._replay
    trials = [t for t in study.get_trials(deepcopy=False) if t.number != trial.number]
    finished = [(t, model.arch_of(t.params)) for t in trials if t.state in _FINISHED]
    finished = [(t, a) for t, a in finished if a is not None]
    if len(finished) > model.algorithm.total_queries:
      raise RuntimeError(f'BananasSampler(total_queries={self.total_queries}) cannot take a '
                         f'history of {len(finished)} trials; make it with a larger '
                         f'total_queries')
    archs = [a for _, a in finished]
    told = optuna_replay.told_values([self._measured(study, t) for t, _ in finished])
    held = [a for a in (model.arch_of(t.params) for t in trials if t.state in _IN_FLIGHT)
            if a is not None]
    key = jax.random.fold_in(jax.random.PRNGKey(self.seed), trial.number)
    model.for_study(optuna_storage.study_key(study))
    return model.async_proposal(key, archs, told, held)

  # Synchronous: slot m of the schedule, once the steps before it are finished ------------

  def _sync_arch(self, study, trial):
    slot = optuna_slots.slots(study.get_trials(deepcopy=False))[trial.number]
    if trial.system_attrs.get(optuna_slots.SLOT) != slot:  # for slot_of(), the dashboard
      optuna_storage.set_trial_system_attr(study, trial, optuna_slots.SLOT, slot)
    model = self._replay
    step, index = model.step_of(slot)
    deadline = time.time() + self.wait_timeout_s
    while True:
      trials = study.get_trials(deepcopy=False)
      if optuna_storage.heartbeat_enabled(study):
        optuna_storage.beat_once_for_the_silent(study, trials, self._beaten)
        optuna_storage.fail_stale_trials(study)
        trials = study.get_trials(deepcopy=False)
      slot_of_trial = optuna_slots.slots(trials)
      raw = self._slot_results(study, trials, slot_of_trial)
      needed = model.steps_needed(step)
      if needed <= raw.keys():
        break
      queued = [t for t in trials if t.state == TrialState.WAITING
                and model.step_of(slot_of_trial[t.number])[0] < step]
      if queued:
        study.add_trial(optuna.trial.create_trial(
            state=TrialState.WAITING,
            system_attrs={optuna_slots.SLOT: slot, optuna_slots.HANDOVER: trial.number}))
        raise optuna.TrialPruned(f'slot {slot} handed over to a queued trial, so that this '
                                 f'worker runs the retried trial {queued[0].number} first')
      if time.time() > deadline:
        raise TimeoutError(
            f'trial {trial.number} (slot {slot}) waited {self.wait_timeout_s:.0f} s for '
            f'slots {sorted(needed - raw.keys())[:10]} to finish; their workers may have died: '
            f'give the storage heartbeats and RetryHeartbeatStaleTrialCallback(max_retry='
            f'{self.max_retries}) so that their trials are retried')
      time.sleep(self.poll_s)
    if slot >= self.total_queries:
      try:
        study.stop()
      except RuntimeError:  # not inside optimize (ask-and-tell): the caller stops
        pass
      raise optuna.TrialPruned(f'the synchronous schedule of {self.total_queries} trials '
                               f'is complete')
    with self._lock:  # workers of study.optimize(n_jobs=...) share the sampler
      model.for_study(optuna_storage.study_key(study))
      return model.sync_proposal(step,
                                 [raw[s] for s in range(model.first_slot(step))])[index]

  def _slot_results(self, study, trials, slot_of_trial):
    """``{slot: what it measured, or None for a failure}`` of the finished slots: a slot's
    latest trial decides; a failed one with retries left is not finished."""
    raw = {}
    for slot, t in optuna_slots.latest_by_slot(trials, slot_of_trial).items():
      if t.state in (TrialState.COMPLETE, TrialState.PRUNED) or (
          t.state == TrialState.FAIL
          and self.max_retries is not None
          and len(t.system_attrs.get('retry_history', [])) >= self.max_retries):
        raw[slot] = self._measured(study, t)
    return raw
