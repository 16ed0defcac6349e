"""Runs many trials of an algorithm on a tabular benchmark, batched and in lockstep.

Each trial's key is ``PRNGKey(seed)``, so a trial's result depends on its seed alone,
whether it runs by itself or in a batch of a thousand. One ``ask -> query -> tell`` step
is jit-compiled once and vmapped over the trial axis.
"""

import functools
from typing import Any, Callable, NamedTuple, Optional

import jax
import numpy as np

from bananas_jax.search.base import Algorithm, num_steps


class TrialResults(NamedTuple):
  """Every query of every trial, in query order: leading axes ``[trials, queries]``."""

  seeds: np.ndarray
  archs: Any
  val_error: np.ndarray
  test_error: np.ndarray
  rows: np.ndarray


def _step(algorithm, benchmark, noisy, initial, state, key):
  ask_key, query_key = jax.random.split(key)
  archs = algorithm.ask(ask_key, state, initial)
  evaluation = benchmark.query(query_key, archs, noisy)
  state = algorithm.tell(state, archs, evaluation.val_error)
  return state, (archs, evaluation)


@functools.partial(jax.jit, static_argnames=('algorithm',))
def _init_trials(algorithm, keys):
  return jax.vmap(algorithm.init)(keys)


@functools.partial(jax.jit, static_argnames=('algorithm', 'noisy', 'initial'))
def _step_trials(algorithm, benchmark, states, keys, noisy, initial):
  step = functools.partial(_step, algorithm, benchmark, noisy, initial)
  return jax.vmap(step)(states, keys)


def trial_keys(seeds):
  """``(init_keys, step_root_keys)`` for a batch of seeds."""
  keys = jax.vmap(jax.random.PRNGKey)(np.asarray(seeds, np.uint32))
  split = jax.vmap(jax.random.split)(keys)
  return split[:, 0], split[:, 1]


def run_trials(algorithm: Algorithm, benchmark, seeds, noisy: bool = False,
               on_step: Optional[Callable[[int, int], None]] = None) -> TrialResults:
  """Runs one trial per seed, all in lockstep; ``on_step(done, total)`` reports progress."""
  init_keys, step_root = trial_keys(seeds)
  states = _init_trials(algorithm, init_keys)
  steps = num_steps(algorithm)
  outputs = []
  for i in range(steps):
    keys = jax.vmap(jax.random.fold_in, in_axes=(0, None))(step_root, i)
    states, out = _step_trials(algorithm, benchmark, states, keys, noisy, i == 0)
    outputs.append(out)
    if on_step is not None:
      jax.block_until_ready(states)
      on_step(i + 1, steps)
  archs = jax.tree.map(lambda *xs: np.concatenate(xs, axis=1), *[o[0] for o in outputs])
  evals = [o[1] for o in outputs]
  cat = lambda field: np.concatenate([np.asarray(getattr(e, field)) for e in evals], axis=1)
  return TrialResults(np.asarray(seeds), archs, cat('val_error'), cat('test_error'), cat('row'))


def best_by_validation(val_error, test_error, queries):
  """For each q in ``queries``: the (val, test) error of the best-by-validation query among
  the first q, per trial. This is how the paper reports a search. Returns two ``[N, Q]``."""
  best = np.stack([np.argmin(val_error[:, :q], axis=1) for q in queries], axis=1)
  take = lambda a: np.take_along_axis(a, best, axis=1)
  return take(val_error), take(test_error)
