"""Bayesian optimisation with a Gaussian process over a distance between cells.

The paper's GP-BO baseline: kernel a^2 exp(-d / l^2) with the original fixed
hyperparameters (l 3, a 1.5, noise 1e-5), lower confidence bound mean - 0.5 std, the
candidates of BANANAS' mutation optimiser (mutations of the best 5), one query per step.
With ``distance='path'``, ``k=10`` and ``acq_fn='its'`` it is BANANAS with a GP as its model.
"""

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from bananas_jax import acquisition
from bananas_jax.predictors import gp
from bananas_jax.search.base import ModelBasedSearch, check_schedule

DISTANCES = ('path', 'trunc_path', 'adjacency', 'nasbot')


@dataclasses.dataclass(frozen=True)
class GPBayesOpt(ModelBasedSearch):
  """GP-BO; every field is a config field (the GP's in the nested ``predictor`` section)."""

  space: Any
  total_queries: int = 150
  num_init: int = 10
  k: int = 1
  distance: str = 'path'  # L1 distance between these encodings
  cutoff: int = 40  # for distance='trunc_path'
  predictor: gp.GaussianProcess = gp.GaussianProcess()
  acq_fn: str = 'ucb'
  num_parents: int = 5
  num_mutations: int = 100
  mutation_rate: float = 1.0

  def __post_init__(self):
    check_schedule('gp_bo', self.total_queries, self.num_init, self.k)
    if self.distance not in DISTANCES:
      raise ValueError(f'unknown distance {self.distance!r}; accepted: {", ".join(DISTANCES)}')
    self.space.encoding_dim(self.distance, self.cutoff)
    acquisition.check_acq_fn(self.acq_fn, has_members=False)
    if self.num_parents * self.num_mutations < self.k:
      raise ValueError(f'gp_bo: num_parents * num_mutations ({self.num_parents * self.num_mutations}) '
                       f'must be at least k ({self.k})')

  def distances(self, archs_a, archs_b):
    """L1 distances between encodings: paths not shared, edits (one-hot pairs / 2), or
    NASBOT-like feature differences."""
    xa = self.space.encode(archs_a, self.distance, self.cutoff)
    xb = self.space.encode(archs_b, self.distance, self.cutoff)
    if self.distance == 'nasbot':
      return gp.l1_distances(xa, xb)
    d = gp.binary_l1_distances(xa, xb)
    return d / 2 if self.distance == 'adjacency' else d

  def propose(self, key, state):
    """Mutations of the best, scored by the GP posterior (predictions: posterior means)."""
    cand_key, acq_key, fill_key = jax.random.split(key, 3)
    cands, valid = acquisition.mutation_candidates(
        cand_key, self.space, state, self.num_parents, self.num_mutations, self.mutation_rate)
    mean, std = self.predictor.posterior(self.distances(state.archs, state.archs),
                                         self.distances(state.archs, cands), state.val_error,
                                         state.mask)
    scores = acquisition.score(self.acq_fn, acq_key, mean, std, jnp.min(state.val_error))
    return self.select(fill_key, state, cands, valid, scores, mean)
