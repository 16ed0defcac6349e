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
minimise). What a finished trial tells the model (:func:`told_values`):

* COMPLETE: its value;
* PRUNED: what it measured, its last reported intermediate value (a pruned trial without
  one is a failure);
* FAIL (in sync mode, once its retries are exhausted): a penalty worse than every measured
  value, the worst plus their spread (at least 1), recomputed at every fit. A failed
  architecture is thus the worst the model knows, the search climbs away from it, and,
  being in the history, it is never proposed again.
"""

import datetime
import functools
import threading
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optuna
import sqlalchemy
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages._heartbeat import is_heartbeat_enabled
from optuna.trial import TrialState

from bananas_jax import history as history_lib
from bananas_jax import search, spaces
from bananas_jax.search import runner

# A sampler answers one trial at one fidelity: it runs the single-fidelity searches.
ALGORITHMS = tuple(name for name, cls in search.ALGORITHMS.items()
                   if not search.is_multi_fidelity(cls))
MODES = ('async', 'sync')
SLOT = 'bananas:slot'  # system attribute: the schedule slot a sync trial evaluates
HANDOVER = 'bananas:handover'  # system attribute of a queued trial that took over a slot
_FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)
_IN_FLIGHT = (TrialState.RUNNING, TrialState.WAITING)


def open_storage(url, heartbeat_interval=None, grace_period=None, max_retries=3):
  """The Optuna storage at ``url``: a journal file (a path ending in ``.log``, for a shared
  disk) or a database URL (``sqlite:///FILE``, ``postgresql://USER@HOST/DB``,
  ``mysql://...``). With ``heartbeat_interval`` (seconds; databases only) a trial whose
  worker stopped beating for ``grace_period`` seconds is failed and queued again, at most
  ``max_retries`` times (``None``: always). Raises ValueError naming the URL when it cannot
  be opened."""
  accepted = 'a journal file PATH.log, sqlite:///FILE, postgresql://USER@HOST/DB or mysql://...'
  if not isinstance(url, str) or not url:
    raise ValueError(f'storage {url!r} is not a storage URL; accepted: {accepted}')
  try:
    if url.endswith('.log') and '://' not in url:
      return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(url))
    with warnings.catch_warnings():
      warnings.simplefilter('ignore', optuna.exceptions.ExperimentalWarning)
      retry = (optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retries)
               if heartbeat_interval else None)
      sqlite = url.startswith('sqlite')
      for attempt in range(3):
        try:
          storage = optuna.storages.RDBStorage(
              url, heartbeat_interval=heartbeat_interval, grace_period=grace_period,
              heartbeat_stale_trial_callback=retry,
              engine_kwargs={'connect_args': {'timeout': 120}} if sqlite else None)
          if sqlite:
            _begin_immediate(storage.engine)
          return storage
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError):
          # two workers creating the same new database race (a down server fails 3 times)
          if attempt == 2:
            raise
          time.sleep(0.5)
  except Exception as e:  # sqlalchemy's and the journal's errors, for any URL
    raise ValueError(f'cannot open the Optuna storage {url!r} ({type(e).__name__}: {e}); '
                     f'accepted: {accepted}') from e


def _begin_immediate(engine):
  """Optuna claims a queued trial by reading that it is WAITING, then writing RUNNING, in
  one transaction; SQLite's Python driver runs the read before the transaction begins, so
  two workers could both claim one trial (seen with two threads of one process). Here
  every transaction begins IMMEDIATE, taking the database's write lock first."""

  @sqlalchemy.event.listens_for(engine, 'connect')
  def _no_driver_transactions(dbapi_connection, _):
    dbapi_connection.isolation_level = None

  @sqlalchemy.event.listens_for(engine, 'begin')
  def _begin(connection):
    connection.exec_driver_sql('BEGIN IMMEDIATE')

  engine.dispose()  # connections opened before the listeners go


def space_from_distributions(distributions, max_options=100):
  """``(CategoricalSpace, names left to the independent sampler)`` of Optuna distributions:
  categorical ones, integer ones and stepped floats with at most ``max_options`` values
  are decisions; continuous floats (and larger ranges) are left out. Raises TypeError
  naming a distribution of another kind."""
  decisions, left_out = {}, []
  for name, dist in distributions.items():
    if isinstance(dist, CategoricalDistribution):
      decisions[name] = tuple(dist.choices)
    elif isinstance(dist, (IntDistribution, FloatDistribution)) and dist.step is not None:
      count = int(round((dist.high - dist.low) / dist.step)) + 1
      if count > max_options:
        left_out.append(name)
      elif isinstance(dist, IntDistribution):
        decisions[name] = tuple(range(dist.low, dist.high + 1, dist.step))
      else:
        decisions[name] = tuple(round(dist.low + i * dist.step, 12) for i in range(count))
    elif isinstance(dist, (IntDistribution, FloatDistribution)):
      left_out.append(name)  # a log-scaled integer or a continuous float
    else:
      raise TypeError(f'parameter {name!r} has a {type(dist).__name__}, which BananasSampler '
                      f'cannot take; accepted: CategoricalDistribution, IntDistribution, '
                      f'FloatDistribution')
  return (spaces.CategoricalSpace.from_decisions(decisions) if decisions else None), left_out


def decisions_of(space):
  """``{decision name: options}`` of a space: its own names, or ``choice_<i>`` over the
  integers of :meth:`from_choices` for spaces without them (NAS-Bench-101, DARTS)."""
  if hasattr(space, 'decisions'):
    return space.decisions()
  return {f'choice_{i}': tuple(range(k)) for i, k in enumerate(space.choices)}


def slot_of(trial):
  """The schedule slot a sync-mode trial evaluates (after its first suggestion)."""
  return trial.storage.get_trial_system_attrs(trial._trial_id)[SLOT]


def suggest(trial, space):
  """Suggests every decision of ``space`` on an Optuna trial; returns the architecture
  (``int32[...]``, unbatched) to build and train."""
  choices = [options.index(trial.suggest_categorical(name, options))
             for name, options in decisions_of(space).items()]
  return np.asarray(spaces.take(space.from_choices(jnp.asarray([choices], jnp.int32)), 0))


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
    for name, options in decisions_of(space).items():
      for i, a in enumerate(options):
        for b in options[i + 1:]:
          if a == b:  # Optuna stores a choice as the index of the first option equal to it
            raise ValueError(f'decision {name!r} has options {a!r} and {b!r}, which compare '
                             f'equal: Optuna cannot tell them apart; make them distinct '
                             f'values (e.g. strings)')
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
    self._replay = _Replay(space, algorithm, self.seed)

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
    space, left_out = space_from_distributions(inferred, self.max_options)
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
    told = told_values([self._measured(study, t) for t, _ in finished])
    held = [a for a in (model.arch_of(t.params) for t in trials if t.state in _IN_FLIGHT)
            if a is not None]
    key = jax.random.fold_in(jax.random.PRNGKey(self.seed), trial.number)
    return model.async_proposal(key, archs, told, held)

  # Synchronous: slot m of the schedule, once the steps before it are finished ------------

  def _sync_arch(self, study, trial):
    storage = study._storage
    slot = slots(study.get_trials(deepcopy=False))[trial.number]
    if trial.system_attrs.get(SLOT) != slot:  # for slot_of() and the dashboard
      storage.set_trial_system_attr(trial._trial_id, SLOT, slot)
    model = self._replay
    step, index = model.step_of(slot)
    deadline = time.time() + self.wait_timeout_s
    while True:
      trials = study.get_trials(deepcopy=False)
      if is_heartbeat_enabled(storage):
        self._beat_once_for_the_silent(storage, trials)
        with warnings.catch_warnings():
          warnings.simplefilter('ignore', optuna.exceptions.ExperimentalWarning)
          optuna.storages.fail_stale_trials(study)
        trials = study.get_trials(deepcopy=False)
      slot_of_trial = slots(trials)
      raw = self._slot_results(study, trials, slot_of_trial)
      needed = model.steps_needed(step)
      if needed <= raw.keys():
        break
      queued = [t for t in trials if t.state == TrialState.WAITING
                and model.step_of(slot_of_trial[t.number])[0] < step]
      if queued:
        study.add_trial(optuna.trial.create_trial(
            state=TrialState.WAITING, system_attrs={SLOT: slot, HANDOVER: trial.number}))
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
      return model.sync_proposal(study._study_id, step,
                                 [raw[s] for s in range(model.first_slot(step))])[index]

  def _beat_once_for_the_silent(self, storage, trials):
    """A worker killed between creating its trial and the trial's first heartbeat leaves a
    RUNNING trial that Optuna never finds stale. One heartbeat recorded here, once, for a
    trial older than the grace period (a live one has beaten by then: this only moves its
    last beat) lets Optuna's own check fail and retry it."""
    interval = storage.get_heartbeat_interval()
    grace = getattr(getattr(storage, '_backend', storage), 'grace_period', None) or 2 * interval
    now = datetime.datetime.now()
    for t in trials:
      if (t.state == TrialState.RUNNING and t.number not in self._beaten
          and (now - t.datetime_start).total_seconds() > grace + interval):
        storage.record_heartbeat(t._trial_id)
        self._beaten.add(t.number)

  def _slot_results(self, study, trials, slot_of_trial):
    """``{slot: value, or None for failed and pruned}`` of the finished slots: a slot's
    latest trial decides; a failed one with retries left is not finished."""
    latest = {}
    for t in trials:
      slot = slot_of_trial.get(t.number)
      if slot is not None and (slot not in latest or t.number > latest[slot].number):
        latest[slot] = t
    raw = {}
    for slot, t in latest.items():
      if t.state in (TrialState.COMPLETE, TrialState.PRUNED) or (
          t.state == TrialState.FAIL
          and self.max_retries is not None
          and len(t.system_attrs.get('retry_history', [])) >= self.max_retries):
        raw[slot] = self._measured(study, t)
    return raw


def slots(trials):
  """``{trial number: schedule slot}``, derived from what the storage fixed when each trial
  was made (a killed worker may not have written its trial's slot): the m-th new trial
  holds slot m; a retry, its original's slot; a handover, the slot it took over. Trials
  enqueued by hand hold none."""
  slot_of_trial, rank = {}, 0
  for t in sorted(trials, key=lambda t: t.number):
    attrs = t.system_attrs
    if 'failed_trial' in attrs:
      slot_of_trial[t.number] = slot_of_trial.get(attrs['failed_trial'])
    elif HANDOVER in attrs:
      slot_of_trial[t.number] = attrs[SLOT]
    elif 'fixed_params' not in attrs:
      slot_of_trial[t.number], rank = rank, rank + 1
  return slot_of_trial


def told_values(values):
  """The values the algorithm is told: measured ones as they are, and each failure (None)
  as a penalty worse than every measured value: the worst plus their spread (at least 1),
  so a failed architecture is the worst the model knows and, in the history, never
  proposed again. With nothing measured yet every failure is told 0: they tie, and the
  next fit, which sees a measured value, tells them worse than it."""
  measured = [v for v in values if v is not None]
  penalty = max(measured) + max(max(measured) - min(measured), 1.0) if measured else 0.0
  return [penalty if v is None else v for v in values]


# One trial's init / tell / ask, batched as the runner batches a trial (two copies), so that
# the results match a launch.search trial to the bit; compiled once per algorithm.
def _twice(tree):
  return jax.tree.map(lambda x: jnp.stack([x, x]), tree)


def _first(tree):
  return jax.tree.map(lambda x: x[0], tree)


@functools.partial(jax.jit, static_argnums=0)
def _init_one(algorithm, key):
  return _first(jax.vmap(algorithm.init)(_twice(key)))


@functools.partial(jax.jit, static_argnums=0)
def _tell_one(algorithm, state, archs, val_error):
  return _first(jax.vmap(algorithm.tell)(*_twice((state, archs, val_error))))


@functools.partial(jax.jit, static_argnums=0, static_argnames='initial')
def _ask_one(algorithm, key, state, initial):
  return _first(jax.vmap(lambda k, s: algorithm.ask(k, s, initial))(*_twice((key, state))))


class _Replay:
  """The algorithm replayed from the study's trials: architectures <-> params, the
  schedule of slots, the state after telling the finished trials, and the proposals."""

  def __init__(self, space, algorithm, seed):
    self.space, self.algorithm = space, algorithm
    self.decisions = decisions_of(space)
    init_key, step_root = runner.trial_keys([seed])
    self.init_key, self.step_root = init_key[0], step_root[0]
    self._init = functools.partial(_init_one, algorithm)
    self._tell = functools.partial(_tell_one, algorithm)
    self._ask = {initial: functools.partial(_ask_one, algorithm, initial=initial)
                 for initial in (True, False)}
    self._study_id, self._proposals = None, []  # sync mode's steps

  def arch_of(self, params):
    """A trial's architecture from its params, or None where it lacks a decision."""
    choices = []
    for name, options in self.decisions.items():
      if name not in params:
        return None
      value = params[name]
      matches = [i for i, o in enumerate(options) if type(o) is type(value) and (
          np.isclose(o, value, rtol=1e-9, atol=0) if isinstance(o, float) else o == value)]
      if not matches:
        return None
      choices.append(matches[0])
    return np.asarray(self.space.from_choices(jnp.asarray([choices], jnp.int32)))[0]

  def params_of(self, arch):
    choices = np.asarray(self.space.to_choices(jnp.asarray(arch)[None]))[0]
    return {name: options[int(c)]
            for (name, options), c in zip(self.decisions.items(), choices)}

  # The schedule: step 0 has num_init slots, every later step k.
  def first_slot(self, step):
    return 0 if step == 0 else self.algorithm.num_init + (step - 1) * self.algorithm.k

  def step_of(self, slot):
    init, k = self.algorithm.num_init, self.algorithm.k
    return (0, slot) if slot < init else (1 + (slot - init) // k, (slot - init) % k)

  def steps_needed(self, step):
    """The slots whose results the proposals of ``step`` depend on."""
    return set(range(min(self.first_slot(step), self.algorithm.total_queries)))

  def sync_proposal(self, study_id, step, raw):
    """The architectures of ``step``, asked after telling every earlier step its results
    (``raw``: the measured values of the slots before it, None for failed). The proposals
    of a step are cached (its results never change once it is finished); the state is
    replayed for each new step, so every failure is told worse than all that was
    measured before that step."""
    if self._study_id != study_id:
      self._study_id, self._proposals = study_id, []
    while len(self._proposals) <= step:
      s = len(self._proposals)
      archs = [a for proposals in self._proposals for a in proposals]
      state = self.replay(archs, told_values(raw[:self.first_slot(s)]))
      ask_key = jax.random.split(jax.random.fold_in(self.step_root, s))[0]
      self._proposals.append(np.asarray(self._ask[s == 0](ask_key, state)))
    return self._proposals[step]

  def replay(self, archs, told):
    """The algorithm's state after telling ``archs`` their ``told`` values, a step of the
    schedule at a time."""
    state = self._init(self.init_key)
    begin = 0
    while begin < len(archs):
      end = min(len(archs), self.first_slot(self.step_of(begin)[0] + 1))
      state = self._tell(state, jnp.asarray(np.stack(archs[begin:end])),
                         jnp.asarray(told[begin:end], jnp.float32))
      begin = end
    return state

  def async_proposal(self, key, archs, told, held):
    """The best proposal of the algorithm on this history that no trial holds (a random
    new architecture when every proposal is held, and for the first ``num_init``)."""
    algorithm, space = self.algorithm, self.space
    state = self.replay(archs, told)
    held_keys = (np.asarray(space.canonical_key(jnp.asarray(np.stack(held))))
                 if held else np.zeros(0, np.int32))
    if len(archs) >= algorithm.num_init:
      proposals = np.asarray(self._ask[False](key, state))
      keys = np.asarray(space.canonical_key(jnp.asarray(proposals)))
      free = np.flatnonzero(~np.isin(keys, held_keys))
      if free.size:
        return proposals[free[0]]
    past = state if isinstance(state, history_lib.History) else state.history
    seen = np.concatenate([np.asarray(past.keys), held_keys]).astype(np.int32)
    return np.asarray(history_lib.sample_new(key, space, 1, jnp.asarray(seen)))[0]
