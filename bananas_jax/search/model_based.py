"""The BANANAS paper's model-based competitors, each BANANAS' loop (candidates, a model
fitted from scratch, acquisition, the ``k`` best) with its own model and defaults, so a
comparison differs in what the papers differ in and every setting stays a config field.

The defaults are those of the code the BANANAS comparison ran (naszilla) and of NASLib for
NPENAS; where a paper and that code disagree, the docstring says which is followed.
"""

import dataclasses
from typing import ClassVar

from bananas_jax.predictors import BOHAMIANN, DNGO, GCN, BayesianGCN, MetaNetEnsemble
from bananas_jax.search.bananas import Bananas


@dataclasses.dataclass(frozen=True)
class Dngo(Bananas):
  """DNGO (Snoek et al. 2015) as the comparison ran it: 20 random cells first, then 10 per
  step, the adjacency encoding, the lower confidence bound mean - 0.5 std."""

  name: ClassVar[str] = 'dngo'
  num_init: int = 20
  encoding: str = 'adjacency'
  acq_fn: str = 'ucb'
  predictor: DNGO = DNGO()


@dataclasses.dataclass(frozen=True)
class Bohamiann(Dngo):
  """BOHAMIANN (Springenberg et al. 2016): DNGO's loop around a network sampled by
  adaptive SGHMC (:mod:`bananas_jax.predictors.bohamiann`)."""

  name: ClassVar[str] = 'bohamiann'
  predictor: BOHAMIANN = BOHAMIANN()


@dataclasses.dataclass(frozen=True)
class Bonas(Bananas):
  """BONAS (Shi et al. 2020), its sample-based search: the GCN on the cell's graph with a
  Bayesian last layer as the model, the upper confidence bound (as the paper) over
  BANANAS' mutation candidates, 10 queries per step (the comparison's batch size)."""

  name: ClassVar[str] = 'bonas'
  encoding: str = 'graph'
  acq_fn: str = 'ucb'
  predictor: BayesianGCN = BayesianGCN()


@dataclasses.dataclass(frozen=True)
class GcnPredictor(Bananas):
  """The neural predictor (Wen et al. 2019): one GCN trained on a first batch of random
  cells, then the best-predicted ``k`` of a large random pool are queried. The comparison
  keeps the paper's 172 : 20 ratio of training cells to queried ones: of 150 queries,
  ``num_init`` 133 random and ``k`` 17 chosen, from a pool of ``num_random`` = 50 x 150."""

  name: ClassVar[str] = 'gcn_predictor'
  num_init: int = 133
  k: int = 17
  encoding: str = 'graph'
  acq_fn: str = 'exploit'
  acq_opt: str = 'random'
  num_random: int = 7500
  predictor: GCN = GCN()


@dataclasses.dataclass(frozen=True)
class Npenas(Bananas):
  """NPENAS (Wei et al. 2020), NASLib's defaults: evolution whose offspring a predictor
  filters. Each step the best 2 cells each make 50 one-edit children, an ensemble of 3 meta
  networks on the adjacency encoding scores them, and the 10 best-predicted are queried."""

  name: ClassVar[str] = 'npenas'
  encoding: str = 'adjacency'
  acq_fn: str = 'exploit'
  num_parents: int = 2
  num_mutations: int = 50
  predictor: MetaNetEnsemble = MetaNetEnsemble(num_ensemble=3)
