"""Bayesian optimisation with a Gaussian process over a distance between cells.

The paper's GP-BO baseline is BANANAS' loop with a GP as its model: kernel
a^2 exp(-d / l^2) with the original fixed hyperparameters (l 3, a 1.5, noise 1e-5) over
the L1 distance between path encodings, lower confidence bound mean - 0.5 std, the
candidates of the mutation optimiser (mutations of the best 5), one query per step.
"""

import dataclasses
from typing import ClassVar

from bananas_jax.predictors.gp import GaussianProcess
from bananas_jax.search.bananas import Bananas


@dataclasses.dataclass(frozen=True)
class GPBayesOpt(Bananas):
  """GP-BO; every field is a config field (the GP's in the nested ``predictor`` section).
  ``encoding='nasbot'`` (real-valued features) takes ``predictor.distance='l1'``; the 0/1
  encodings take ``'hamming'``, or ``'edits'`` for the one-hot adjacency."""

  name: ClassVar[str] = 'gp_bo'
  k: int = 1
  encoding: str = 'path'
  acq_fn: str = 'ucb'
  predictor: GaussianProcess = GaussianProcess()

  def __post_init__(self):
    super().__post_init__()
    if (self.encoding == 'nasbot') != (self.predictor.distance == 'l1'):
      raise ValueError(f'gp_bo: encoding {self.encoding!r} with predictor.distance '
                       f'{self.predictor.distance!r}; nasbot features take the distance '
                       f"'l1', and 0/1 encodings 'hamming' or 'edits'")
