"""Performance predictors: the meta neural network ensemble of BANANAS, and the models of
the paper's competitors (DNGO, BOHAMIANN, the GCN of the neural predictor and BONAS, a GP)."""

from bananas_jax.predictors.base import MemberPredictor, Predictor
from bananas_jax.predictors.bohamiann import BOHAMIANN
from bananas_jax.predictors.dngo import DNGO, BayesianLastLayer
from bananas_jax.predictors.ensemble import LOSSES, MetaNet, MetaNetEnsemble
from bananas_jax.predictors.gcn import GCN, BayesianGCN
from bananas_jax.predictors.gp import GaussianProcess

# Every model by name (tests/test_predictor_contract.py checks each against the interface).
PREDICTORS = {'ensemble': MetaNetEnsemble, 'gp': GaussianProcess, 'dngo': DNGO,
              'bohamiann': BOHAMIANN, 'gcn': GCN, 'bayesian_gcn': BayesianGCN}
