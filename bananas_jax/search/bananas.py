"""BANANAS: Bayesian optimisation with a meta neural network ensemble over path encodings.

One ``ask`` is the whole iteration of the paper, a pure function that jit-compiles and
vmaps over trials: make candidates (acquisition optimisation), encode the history and the
candidates, train the ensemble from scratch, score the candidates with the acquisition
function and return the ``k`` best. The first ``ask`` returns ``num_init`` random ones.

The model is a choice of the loop: any :class:`~bananas_jax.predictors.base.Predictor`
(``fit`` and ``predict``; a ``MemberPredictor`` for Thompson sampling over members) takes
the ensemble's place. GP-BO (:mod:`bananas_jax.search.gp_bo`) and the paper's other
model-based competitors (:mod:`bananas_jax.search.model_based`) are this loop with their
own models and defaults.
"""

import dataclasses
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp

from bananas_jax import acquisition, spaces
from bananas_jax.history import History
from bananas_jax.predictors import MetaNetEnsemble
from bananas_jax.predictors.base import check_at_least_one
from bananas_jax.search.base import ModelBasedSearch, check_predictor_encoding, check_schedule
from bananas_jax.search.multifidelity import MultiFidelitySearch, Rung


@dataclasses.dataclass(frozen=True)
class Bananas(ModelBasedSearch):
  """BANANAS with the original defaults; every field is a config field for ablations
  (``predictor`` is the nested ``bananas.predictor`` section)."""

  name: ClassVar[str] = 'bananas'
  space: Any
  total_queries: int = 150
  num_init: int = 10
  k: int = 10
  encoding: str = 'trunc_path'
  cutoff: int = 40
  acq_fn: str = 'its'
  acq_opt: str = 'mutation'
  num_parents: int = 5  # mutation: parents tried, best first
  num_mutations: int = 100  # mutation: attempts per parent
  mutation_rate: float = 1.0
  num_random: int = 200  # random / mutation_random: candidates in all
  num_climb_steps: int = 10  # local_search: moves at most on the ensemble's mean surface
  draw_per_proposal: bool = False  # its / ts: a fresh draw for each of the k (diversity)
  predictor: MetaNetEnsemble = MetaNetEnsemble()

  def __post_init__(self):
    check_schedule(self)
    self.space.encoding_dim(self.encoding, self.cutoff)  # refuses unknown encodings
    check_predictor_encoding(self.name, self.predictor, self.encoding)
    acquisition.check_acq_fn(self.acq_fn, has_members=hasattr(self.predictor, 'predict_members'))
    if self.draw_per_proposal and self.acq_fn not in acquisition.RANDOMISED:
      raise ValueError(f'draw_per_proposal needs a randomised acq_fn, not {self.acq_fn!r}; '
                       f'accepted: {", ".join(acquisition.RANDOMISED)}')
    if self.acq_opt not in acquisition.ACQ_OPTS:
      raise ValueError(f'unknown acq_opt {self.acq_opt!r}; accepted: '
                       f'{", ".join(acquisition.ACQ_OPTS)}')
    capacity = {'mutation': self.num_parents * self.num_mutations, 'random': self.num_random,
                'mutation_random': self.num_parents * self.num_mutations + self.num_random,
                'local_search': self.k}  # a climb's neighbourhoods; random ones fill in
    check_at_least_one(self.name, self, 'num_climb_steps')
    if capacity[self.acq_opt] < self.k:
      raise ValueError(f'acq_opt {self.acq_opt!r} makes at most {capacity[self.acq_opt]} '
                       f'candidates, fewer than k ({self.k}); raise num_mutations or num_random')

  def encode(self, archs):
    return self.space.encode(archs, self.encoding, self.cutoff)

  def fit_model(self, key, state):
    """``(params, inputs)``: the predictor fitted from scratch to the trial's results, and
    how a candidate becomes its input (here the history and the encoding)."""
    params = self.predictor.fit(key, self.encode(state.archs), state.val_error, state.mask)
    return params, self.encode

  def ranked(self, state):
    """The :class:`History` that candidates, the incumbent and novelty come from."""
    return state

  def propose(self, key, state, num=None):
    """One BANANAS iteration: candidates, the model fitted from scratch, acquisition; the
    ``num`` (default ``k``) best candidates."""
    cand_key, fit_key, acq_key, fill_key = jax.random.split(key, 4)
    params, inputs = self.fit_model(fit_key, state)
    history = self.ranked(state)
    predict = lambda archs: self.predictor.predict(params, inputs(archs))
    cands, valid = acquisition.candidates(
        self.acq_opt, cand_key, self.space, history, self.num_parents, self.num_mutations,
        self.mutation_rate, self.num_random, lambda archs: predict(archs)[0],
        self.num_climb_steps)
    x = inputs(cands)
    mean, std = self.predictor.predict(params, x)
    members = (self.predictor.predict_members(params, x)
               if self.acq_fn in acquisition.NEEDS_MEMBERS else None)
    score = lambda key: acquisition.score(self.acq_fn, key, mean, std,
                                          jnp.min(history.val_error), members)
    if self.draw_per_proposal:  # parallel Thompson sampling: row i is proposal i's draw
      scores = jax.vmap(score)(jax.random.split(acq_key, num or self.k))
    else:
      scores = score(acq_key)
    return self.select(fill_key, history, cands, valid, scores, mean, num)


@dataclasses.dataclass(frozen=True)
class BananasPlus(Bananas):
  """BANANAS with three ingredients that earned their place on NAS-Bench-201 (chosen on
  tuning seeds 1000 and up; evidence on seeds 0-99 in experiments/RESULTS.md): the
  adjacency encoding (the predictor study's best on this space), 5 proposals per step
  instead of 10 (twice the refits, so each batch follows newer evidence) and random
  candidates beside the mutations (``num_random`` in all), which let the ensemble leave a
  basin that the mutations of the best cells cannot."""

  name: ClassVar[str] = 'bananas_plus'
  k: int = 5
  encoding: str = 'adjacency'
  acq_opt: str = 'mutation_random'
  num_random: int = 300


class PrefilterState(NamedTuple):
  full: History  # the full-fidelity results, on which the ensemble is fitted
  pool: Any  # the last pool's architectures
  pool_val_error: jax.Array  # and their validation errors at the lowest fidelity


@dataclasses.dataclass(frozen=True)
class BananasPrefilter(MultiFidelitySearch, Bananas):
  """BANANAS that screens its proposals at the table's lowest fidelity: each iteration
  trains the acquisition's best ``pool * k`` new architectures at ``fidelities[0]`` (12
  epochs on NAS-Bench-201, 6% of a full training's cost each) and then the ``k`` best of
  them by that validation error at full fidelity. The ensemble learns from full-fidelity
  results only. ``total_queries`` counts full-fidelity queries, as for BANANAS. An
  architecture screened and not chosen may be proposed, and screened, again."""

  name: ClassVar[str] = 'bananas_prefilter'
  pool: int = 3
  fidelities: tuple = ()

  def __post_init__(self):
    super().__post_init__()
    check_at_least_one(self.name, self, 'pool')

  def plan(self):
    low, full = self.fidelities[0], self.fidelities[-1]
    iteration = [Rung(low, self.pool * self.k), Rung(full, self.k, source=self.pool * self.k)]
    return [Rung(full, self.num_init)] + iteration * ((self.total_queries - self.num_init)
                                                      // self.k)

  def init(self, key):
    return PrefilterState(History.empty(self.space, self.total_queries),
                          self.space.empty(self.pool * self.k),
                          jnp.full(self.pool * self.k, jnp.inf, jnp.float32))

  def ask(self, key, state, step):
    epochs = jnp.full(step.size, step.epochs, jnp.int32)
    if step.source:  # the pool's best at full fidelity
      return spaces.take(state.pool, jnp.argsort(state.pool_val_error)[:step.size]), epochs
    if step.epochs == self.fidelities[0]:
      return self.propose(key, state.full, num=step.size)[0], epochs
    return self.initial_archs(key, state.full), epochs

  def tell(self, state, archs, epochs, evaluation, step):
    if step.epochs == self.fidelities[0]:
      return state._replace(pool=archs, pool_val_error=evaluation.val_error)
    return state._replace(full=state.full.add(self.space, archs, evaluation.val_error))
