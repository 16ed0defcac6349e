"""Runs many trials of an algorithm on a tabular benchmark, batched and in lockstep.

Each trial's key is ``PRNGKey(seed)``, so on a given device layout a trial's result
depends on its seed alone, whether it runs by itself or in a batch of a thousand (see
:func:`run_trials` for the padding that keeps it so to the last bit). One
``ask -> query -> tell`` step is jit-compiled once, vmapped over the trial axis and split
across local devices (on a CPU, the launchers make each core a device: see
``bananas_jax/cpu_devices.py``).
"""

import functools
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec as P

from bananas_jax.search.base import Algorithm, ModelBasedSearch, num_steps
from bananas_jax.search.multifidelity import is_multi_fidelity


MIN_TRIALS_PER_DEVICE = 2  # see run_trials


class TrialResults(NamedTuple):
  """Every query of every trial, in query order: leading axes ``[trials, queries]``."""

  seeds: np.ndarray
  archs: Any
  val_error: np.ndarray
  test_error: np.ndarray
  train_time: np.ndarray  # the benchmark's training time of each query (seconds)
  rows: np.ndarray
  predicted: np.ndarray  # the model's validation error for each query; NaN without one
  epochs: np.ndarray  # the training budget of each query (multi-fidelity searches vary it)


def steps_of(algorithm):
  """The static argument of each step: ``initial`` (a bool) for single-fidelity searches,
  the entries of ``plan()`` for multi-fidelity ones."""
  if is_multi_fidelity(algorithm):
    if not algorithm.fidelities:
      raise ValueError(f'{algorithm.name} has no fidelities: give them in its settings, or '
                       f'take the benchmark\'s with search.with_fidelities(algorithm, '
                       f'benchmark.fidelities)')
    return algorithm.plan()
  return [True] + [False] * (num_steps(algorithm) - 1)


def _step(algorithm, noisy, step, benchmark, state, key):
  """ask -> query -> tell; model-based searches also return their predictions."""
  ask_key, query_key = jax.random.split(key)
  if is_multi_fidelity(algorithm):
    archs, epochs = algorithm.ask(ask_key, state, step)
    evaluation = benchmark.query(archs, epochs)
    state = algorithm.tell(state, archs, epochs, evaluation, step)
    return state, (archs, evaluation, jnp.full(epochs.shape, jnp.nan), epochs)
  if step or not isinstance(algorithm, ModelBasedSearch):
    archs = algorithm.ask(ask_key, state, step)
    predicted = jnp.full(jax.tree.leaves(archs)[0].shape[0], jnp.nan)
  else:
    archs, predicted = algorithm.propose(ask_key, state)
  evaluation = benchmark.query(query_key, archs, noisy)
  state = algorithm.tell(state, archs, evaluation.val_error)
  return state, (archs, evaluation, predicted,
                 jnp.full(predicted.shape, benchmark.fidelity, jnp.int32))


def trial_mesh():
  """A 1-D mesh over all local devices; the trial axis is split across it."""
  return Mesh(np.array(jax.local_devices()), ('trials',))


def _over_trials(fn, mesh, in_axes):
  """``fn`` vmapped over trials (``in_axes``: 0 for per-trial arguments, None for shared
  ones), each device running its own share of trials with no communication."""
  in_specs = tuple(P() if axis is None else P('trials') for axis in in_axes)
  return jax.shard_map(jax.vmap(fn, in_axes=in_axes), mesh=mesh, in_specs=in_specs,
                       out_specs=P('trials'), check_vma=False)


@functools.partial(jax.jit, static_argnames=('algorithm', 'mesh'))
def _init_trials(algorithm, mesh, keys):
  return _over_trials(algorithm.init, mesh, (0,))(keys)


@functools.partial(jax.jit, static_argnames=('algorithm', 'noisy', 'step', 'mesh'))
def _step_trials(algorithm, benchmark, states, keys, noisy, step, mesh):
  one_step = functools.partial(_step, algorithm, noisy, step)
  return _over_trials(one_step, mesh, (None, 0, 0))(benchmark, states, keys)


def trial_keys(seeds):
  """``(init_keys, step_root_keys)`` for a batch of seeds."""
  keys = jax.vmap(jax.random.PRNGKey)(np.asarray(seeds, np.uint32))
  split = jax.vmap(jax.random.split)(keys)
  return split[:, 0], split[:, 1]


def run_trials(algorithm: Algorithm, benchmark, seeds, noisy: bool = False,
               on_step: Optional[Callable[[int, int], None]] = None) -> TrialResults:
  """Runs one trial per seed, all in lockstep, the trials split across local devices.

  The batch is padded with repeats of the last seed, whose results are dropped, to a
  multiple of the device count and to at least two trials per device: XLA's CPU backend
  compiles some reductions differently for a batch of one (the degenerate axis is
  dropped), which changes float rounding, so a trial run alone would drift from the same
  trial run in a batch. ``on_step(done, total)`` reports progress. A multi-fidelity search
  needs a multi-fidelity benchmark (``query(archs, epochs)``), every other search a
  single-fidelity one.
  """
  if is_multi_fidelity(algorithm) != hasattr(benchmark, 'fidelities'):
    raise ValueError(f'{type(algorithm).__name__} on a {type(benchmark).__name__}: '
                     f'multi-fidelity searches need the multi-fidelity benchmark and only '
                     f'they take it')
  seeds = np.asarray(seeds)
  mesh = trial_mesh()
  size = max(len(seeds), MIN_TRIALS_PER_DEVICE * mesh.size)
  size += -size % mesh.size
  padded = np.concatenate([seeds, np.repeat(seeds[-1:], size - len(seeds))])
  init_keys, step_root = trial_keys(padded)
  states = _init_trials(algorithm, mesh, init_keys)
  steps = steps_of(algorithm)
  outputs = []
  for i, step in enumerate(steps):
    keys = jax.vmap(jax.random.fold_in, in_axes=(0, None))(step_root, i)
    states, out = _step_trials(algorithm, benchmark, states, keys, noisy, step, mesh)
    outputs.append(out)
    if on_step is not None:
      jax.block_until_ready(states)
      on_step(i + 1, len(steps))
  n = len(seeds)
  archs = jax.tree.map(lambda *xs: np.concatenate(xs, axis=1)[:n], *[o[0] for o in outputs])
  evals = [o[1] for o in outputs]
  cat = lambda field: np.concatenate([np.asarray(getattr(e, field)) for e in evals], axis=1)[:n]
  column = lambda i: np.concatenate([np.asarray(o[i]) for o in outputs], axis=1)[:n]
  return TrialResults(seeds, archs, cat('val_error'), cat('test_error'), cat('train_time'),
                      cat('row'), column(2), column(3))


def best_by_validation(val_error, test_error, queries, reported=None):
  """For each q in ``queries``: the (val, test) error of the best-by-validation query among
  the first q, per trial. This is how the paper reports a search. Returns two ``[N, Q]``.
  ``reported`` (``bool[N, queries]``, default all): the queries that may be the answer, the
  full-fidelity ones; NaN where none of the first q is."""
  if reported is not None:
    val_error = np.where(reported, val_error, np.inf)
  best = np.stack([np.argmin(val_error[:, :q], axis=1) for q in queries], axis=1)
  take = lambda a: np.take_along_axis(a, best, axis=1)
  found = np.isfinite(take(val_error))
  return np.where(found, take(val_error), np.nan), np.where(found, take(test_error), np.nan)


def cost_trace(val_error, test_error, train_time, reported, budget_share):
  """One trial's best-by-validation answer as a function of simulated training time: the
  ``[seconds, val, test, full queries, queries]`` at which each new best reported query was
  paid for (queries are charged in the order they were asked; cumulative seconds, the
  full-fidelity queries made so far, and every query made so far, each counted as
  ``budget_share``: its epochs over the full fidelity's, so a 12-epoch query on
  NAS-Bench-201 counts 12/200, the paper's query axis for multi-fidelity searches)."""
  cost = np.cumsum(train_time)
  full_queries = np.cumsum(reported)
  queries = np.cumsum(budget_share)
  trace, best = [], np.inf
  for i in np.flatnonzero(reported):
    if val_error[i] < best:
      best = val_error[i]
      trace.append([float(cost[i]), float(val_error[i]), float(test_error[i]),
                    int(full_queries[i]), float(queries[i])])
  return trace
