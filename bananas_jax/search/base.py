"""The interface every search algorithm implements: explicit-state ``init / ask / tell``.

State is a pytree and every method is pure, so the runner jit-compiles one step and
vmaps it over trials; the same three calls also drive a search one step at a time from
Python when a query is a real training (ask, train the architectures, tell).
"""

import abc
from typing import Any, ClassVar, Protocol

import jax
import jax.numpy as jnp

from bananas_jax import acquisition
from bananas_jax.history import History, sample_new
from bananas_jax.predictors.base import check_at_least_one
from bananas_jax.search.multifidelity import is_multi_fidelity


class Algorithm(Protocol):
  """A search algorithm over one search space.

  The first ``ask`` (``initial=True``) proposes ``num_init`` architectures, every later
  one ``k``; a trial makes ``total_queries`` queries, so ``total_queries - num_init`` is a
  multiple of ``k``. ``name`` is the algorithm's name in configs, records and
  ``search.ALGORITHMS``; a multi-fidelity search subclasses
  :class:`~bananas_jax.search.multifidelity.MultiFidelitySearch` instead.
  """

  name: ClassVar[str]
  space: Any
  total_queries: int
  num_init: int
  k: int

  def init(self, key: jax.Array) -> Any:
    """The state of a trial before its first query."""

  def ask(self, key: jax.Array, state: Any, initial: bool) -> Any:
    """Architectures to query next; all but on-policy REINFORCE never repeat a query."""

  def tell(self, state: Any, archs: Any, val_error: jax.Array) -> Any:
    """The state after learning the validation errors (%) of ``archs``."""


class HistorySearch:
  """Shared ``init`` and ``tell`` for algorithms whose whole state is the query history,
  and their random first batch (for dataclasses with ``space``, ``total_queries``,
  ``num_init``)."""

  def init(self, key):
    del key
    return History.empty(self.space, self.total_queries)

  def tell(self, state, archs, val_error):
    return state.add(self.space, archs, val_error)

  def initial_archs(self, key, state):
    """``num_init`` distinct random architectures."""
    return sample_new(key, self.space, self.num_init, state.keys)


class ModelBasedSearch(HistorySearch, abc.ABC):
  """A search that fits a model of validation error to its history and asks for the
  candidates the model scores best (BANANAS, GP-BO). After the random first batch, ``ask``
  is ``propose`` without its predictions; the runner calls ``propose`` itself to record
  how far off the model was (``predictor_mae`` in the metrics)."""

  @abc.abstractmethod
  def propose(self, key: jax.Array, state: History) -> tuple[Any, jax.Array]:
    """``(k architectures, the model's predicted validation error of each)``; NaN where a
    random architecture filled in for too few new candidates."""

  def ask(self, key, state, initial):
    if initial:
      return self.initial_archs(key, state)
    return self.propose(key, state)[0]

  def select(self, key, state, cands, valid, scores, mean, num=None):
    """The ``num`` (default ``k``) best-scoring new candidates (random new ones filling in)
    and their predicted errors: the common end of every ``propose``."""
    archs, chosen = acquisition.select(key, self.space, cands, valid, scores, num or self.k,
                                       state.keys)
    return archs, jnp.where(chosen >= 0, mean[chosen], jnp.nan)


def num_steps(algorithm: Algorithm) -> int:
  """How many ``ask`` calls make one trial (the initial one included)."""
  if is_multi_fidelity(algorithm):
    return len(algorithm.plan())
  return 1 + (algorithm.total_queries - algorithm.num_init) // algorithm.k


def check_schedule(algorithm) -> None:
  """Refuses query counts that no whole number of steps reaches."""
  name, total, num_init, k = (algorithm.name, algorithm.total_queries, algorithm.num_init,
                              algorithm.k)
  check_at_least_one(name, algorithm, 'num_init', 'k')
  if total < num_init:
    raise ValueError(f'{name}: total_queries ({total}) must be at least num_init ({num_init})')
  if (total - num_init) % k:
    raise ValueError(f'{name}: total_queries - num_init ({total - num_init}) must be a '
                     f'multiple of k ({k})')


def check_predictor_encoding(name: str, predictor, encoding: str) -> None:
  """Refuses a graph network without the 'graph' encoding, and that encoding without one."""
  if predictor.reads_graph != (encoding == 'graph'):
    raise ValueError(f"{name}: encoding {encoding!r} with a {type(predictor).__name__} "
                     f"predictor; the 'graph' encoding is for graph networks (bonas, "
                     f'gcn_predictor) and only they read it')
