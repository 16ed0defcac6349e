"""A search algorithm replayed from the trials of an Optuna study: what each trial tells
it, the state after telling the finished ones, and its proposals (in both of
``BananasSampler``'s modes)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from bananas_jax import history as history_lib
from bananas_jax import spaces
from bananas_jax.integrations import optuna_space
from bananas_jax.search import runner


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


@functools.partial(jax.jit, static_argnums=0)
def _keys(space, archs):
  return space.canonical_key(archs)


@functools.partial(jax.jit, static_argnums=0)
def _new_arch(space, key, seen_keys):
  return spaces.take(history_lib.sample_new(key, space, 1, seen_keys), 0)


def _padded(archs):
  """``archs`` stacked, the first repeated up to a power of two (at least 8): the held
  trials' count changes at every ask, and each new shape would compile again."""
  size = max(8, 1 << (len(archs) - 1).bit_length())
  return np.stack(archs + archs[:1] * (size - len(archs)))


class Replay:
  """The algorithm replayed from the study's trials: architectures <-> params, the
  schedule of slots, the state after telling the finished trials, and the proposals."""

  def __init__(self, space, algorithm, seed):
    self.space, self.algorithm = space, algorithm
    self.decisions = optuna_space.decisions_of(space)
    init_key, step_root = runner.trial_keys([seed])
    self.init_key, self.step_root = init_key[0], step_root[0]
    self._init = functools.partial(_init_one, algorithm)
    self._tell = functools.partial(_tell_one, algorithm)
    self._ask = {initial: functools.partial(_ask_one, algorithm, initial=initial)
                 for initial in (True, False)}
    # What is cached for one study at a time (a sampler may serve several): the proposals
    # of the sync schedule's steps, and the state after each step of the last replay.
    self._study, self._proposals, self._replayed = None, [], []
    self._archs = {}  # params (as a tuple) -> architecture: a pure function, for any study

  def for_study(self, study):
    """Forgets what was cached for another study."""
    if self._study != study:
      self._study, self._proposals, self._replayed = study, [], []

  def arch_of(self, params):
    """A trial's architecture from its params, or None where it lacks a decision."""
    key = tuple(params.items())
    if key not in self._archs:
      self._archs[key] = optuna_space.arch_of(self.space, params, self.decisions)
    return self._archs[key]

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

  def sync_proposal(self, step, raw):
    """The architectures of ``step``, asked after telling every earlier step its results
    (``raw``: the measured values of the slots before it, None for failed). The proposals
    of a step are cached (its results never change once it is finished); the state is
    replayed for each new step, so every failure is told worse than all that was
    measured before that step."""
    while len(self._proposals) <= step:
      s = len(self._proposals)
      archs = [a for proposals in self._proposals for a in proposals]
      state = self.replay(archs, told_values(raw[:self.first_slot(s)]))
      ask_key = jax.random.split(jax.random.fold_in(self.step_root, s))[0]
      self._proposals.append(np.asarray(self._ask[s == 0](ask_key, state)))
    return self._proposals[step]

  def replay(self, archs, told):
    """The algorithm's state after telling ``archs`` their ``told`` values, a step of the
    schedule at a time. The state after each step is kept, so a replay that begins as the
    last one did (a study's finished trials, a few more each time) tells only the rest."""
    state, begin, step = self._init(self.init_key), 0, 0
    while begin < len(archs):
      end = min(len(archs), self.first_slot(self.step_of(begin)[0] + 1))
      told_step, archs_step = tuple(told[begin:end]), np.stack(archs[begin:end])
      kept = self._replayed[step] if step < len(self._replayed) else None
      if kept and kept[0] == told_step and np.array_equal(kept[1], archs_step):
        state = kept[2]
      else:
        state = self._tell(state, jnp.asarray(archs_step), jnp.asarray(told_step, jnp.float32))
        del self._replayed[step:]
        self._replayed.append((told_step, archs_step, state))
      begin, step = end, step + 1
    return state

  def async_proposal(self, key, archs, told, held):
    """The best proposal of the algorithm on this history that no trial holds (a random
    new architecture when every proposal is held, and for the first ``num_init``)."""
    algorithm, space = self.algorithm, self.space
    state = self.replay(archs, told)
    held_keys = (np.asarray(_keys(space, _padded(held))) if held
                 else np.full(8, -1, np.int32))  # -1: no key (history.novel)
    if len(archs) >= algorithm.num_init:
      proposals = np.asarray(self._ask[False](key, state))
      free = np.flatnonzero(~np.isin(np.asarray(_keys(space, proposals)), held_keys))
      if free.size:
        return proposals[free[0]]
    past = state if isinstance(state, history_lib.History) else state.history
    return np.asarray(_new_arch(space, key, jnp.concatenate([past.keys, held_keys])))
