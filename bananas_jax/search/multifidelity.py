"""Multi-fidelity searches: successive halving and Hyperband (BOHB and ASHA build on them).

A multi-fidelity search asks for architectures *and* the training budget (epochs) of each,
so its ``ask`` returns ``(archs, epochs)`` and its ``tell`` sees the whole evaluation (the
training seconds too). Its trial is a static list of steps (:meth:`plan`): each step a
hashable description whose size is fixed, so the runner compiles one program per distinct
step and runs the trials of a batch in lockstep as it does for every other search.

Successive halving and Hyperband are brackets of rungs. A rung is one step: the first
rung of a bracket trains ``n`` new architectures at the lowest fidelity of the bracket,
every later rung retrains the best ``n / eta`` of the rung just before it (by validation
error at that rung's fidelity) at the next fidelity. The rungs are the fidelities the table
holds (NAS-Bench-201: 12 and 200 epochs; NAS-Bench-101: 4, 12, 36, 108), not a geometric
series of budgets: a tabular benchmark answers no other. A trial repeats its brackets
until ``total_queries`` evaluations (at any fidelity) are made; the last rung is cut short
if it does not fit.
"""

import dataclasses
import math
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp

from bananas_jax import spaces
from bananas_jax.history import History, sample_new


class Evaluations(NamedTuple):
  """Every evaluation of a trial at any fidelity, in order (``history.keys`` keep new
  architectures new), and the epochs each was trained for (0 in padding)."""

  history: History
  epochs: jax.Array  # int32[capacity]

  @classmethod
  def empty(cls, space, capacity):
    return cls(History.empty(space, capacity), jnp.zeros(capacity, jnp.int32))

  def add(self, space, archs, epochs, val_error):
    count = self.history.count
    return Evaluations(self.history.add(space, archs, val_error),
                       jax.lax.dynamic_update_slice_in_dim(self.epochs, epochs, count, 0))


@dataclasses.dataclass(frozen=True)
class Rung:
  """One step of a bracket: ``size`` architectures trained for ``epochs``; new ones when
  ``source`` is 0, else the best ``size`` of the previous ``source`` evaluations."""

  epochs: int
  size: int
  source: int = 0


def with_fidelities(algorithm, available):
  """``algorithm`` with its ``fidelities`` set to the benchmark's (``available``, epochs,
  ascending) where it names none; refuses ones the benchmark has no table for, and a last
  one that is not the benchmark's full fidelity (only full-fidelity results are reported)."""
  wanted = tuple(algorithm.fidelities) or tuple(available)
  if (len(wanted) < 2 or list(wanted) != sorted(set(wanted))
      or any(f not in available for f in wanted) or wanted[-1] != available[-1]):
    raise ValueError(f'{algorithm.name}: fidelities {tuple(algorithm.fidelities)} do not fit '
                     f'the benchmark: give two or more of its epochs {tuple(available)}, '
                     f'ascending, ending with {available[-1]}')
  return dataclasses.replace(algorithm, fidelities=wanted)


class MultiFidelitySearch:
  """The base that declares a search multi-fidelity, and their shared parts (dataclasses
  with ``space``, ``total_queries``, ``fidelities``): the state, ``tell``, and the cut of a
  plan. A multi-fidelity search's ``ask(key, state, step)`` returns ``(archs, epochs)``,
  its ``tell(state, archs, epochs, evaluation, step)`` sees the whole evaluation, and
  ``plan()`` lists its steps."""

  def init(self, key):
    del key
    return Evaluations.empty(self.space, self.total_queries)

  def tell(self, state, archs, epochs, evaluation, step):
    del step
    return state.add(self.space, archs, epochs, evaluation.val_error)

  def plan(self) -> list:
    """The trial's steps: :meth:`cycle` repeated until ``total_queries`` evaluations, the
    last step cut to fit."""
    steps, made = [], 0
    cycle = self.cycle()
    while made < self.total_queries:
      for step in cycle:
        size = min(step.size, self.total_queries - made)
        steps.append(dataclasses.replace(step, size=size))
        made += size
        if made == self.total_queries:
          break
    return steps


def is_multi_fidelity(algorithm) -> bool:
  """Whether an algorithm (or its class) is a multi-fidelity search."""
  cls = algorithm if isinstance(algorithm, type) else type(algorithm)
  return issubclass(cls, MultiFidelitySearch)


def check_common(name, total_queries, eta):
  if total_queries < 1:
    raise ValueError(f'{name}: total_queries must be at least 1, got {total_queries}')
  if eta < 2:
    raise ValueError(f'{name}: eta must be at least 2, got {eta}')


def best_of_previous(history, source, size):
  """The ``size`` best architectures (by validation error) of the last ``source``
  evaluations: a rung's promotions."""
  start = history.count - source
  previous = jax.lax.dynamic_slice_in_dim(history.val_error, start, source)
  return spaces.take(history.archs, start + jnp.argsort(previous, stable=True)[:size])


def bracket(fidelities, num_configs, eta):
  """The rungs of one bracket: ``num_configs`` new architectures at ``fidelities[0]``, then
  ``floor(n / eta)`` of each rung's ``n`` at the next fidelity (at least one)."""
  rungs = [Rung(fidelities[0], num_configs)]
  for epochs in fidelities[1:]:
    rungs.append(Rung(epochs, max(rungs[-1].size // eta, 1), source=rungs[-1].size))
  return rungs


@dataclasses.dataclass(frozen=True)
class SuccessiveHalving(MultiFidelitySearch):
  """Successive halving (Jamieson & Talwalkar 2016), bracket after bracket.

  ``fidelities``: the rungs' epochs, ``()`` for every fidelity of the benchmark (the
  experiment fills them in). ``num_configs``: new architectures per bracket, 0 for
  ``eta ** (rungs - 1)``, Hyperband's most exploratory bracket (hpbandster's default):
  3 on NAS-Bench-201 (3 at 12 epochs, the best 1 at 200), 27 on NAS-Bench-101.
  """

  name: ClassVar[str] = 'successive_halving'
  space: Any
  total_queries: int = 600
  fidelities: tuple = ()
  eta: int = 3
  num_configs: int = 0

  def __post_init__(self):
    check_common(self.name, self.total_queries, self.eta)
    if self.num_configs < 0:
      raise ValueError(f'{self.name}: num_configs must be 0 (eta ** (rungs - 1)) or '
                       f'positive, got {self.num_configs}')

  def cycle(self):
    n = self.num_configs or self.eta ** (len(self.fidelities) - 1)
    return bracket(self.fidelities, n, self.eta)

  def new_archs(self, key, state, num):
    """``num`` architectures new to the trial: uniformly random here; BOHB's model in BOHB."""
    return sample_new(key, self.space, num, state.history.keys)

  def ask(self, key, state, step):
    epochs = jnp.full(step.size, step.epochs, jnp.int32)
    if not step.source:
      return self.new_archs(key, state, step.size), epochs
    return best_of_previous(state.history, step.source, step.size), epochs


@dataclasses.dataclass(frozen=True)
class Hyperband(SuccessiveHalving):
  """Hyperband (Li et al. 2018): one round of successive halving brackets from the most
  exploratory to plain full-fidelity training. With ``s_max = rungs - 1``, bracket ``s``
  (``s_max`` down to 0) starts ``ceil((s_max + 1) / (s + 1) * eta ** s)`` architectures at
  rung ``s_max - s``: on NAS-Bench-201, 3 at 12 epochs (the best 1 goes on to 200), then 2
  at 200; on NAS-Bench-101, 27/9/3/1, 12/4/1, 6/2, 4 from 4, 12, 36 and 108 epochs."""

  name: ClassVar[str] = 'hyperband'
  total_queries: int = 400

  def cycle(self):
    s_max = len(self.fidelities) - 1
    return [rung for s in range(s_max, -1, -1)
            for rung in bracket(self.fidelities[s_max - s:],
                                math.ceil((s_max + 1) / (s + 1) * self.eta ** s), self.eta)]
