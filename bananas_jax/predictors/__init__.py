"""Performance predictors: the meta neural network ensemble of BANANAS, DNGO, a GP."""

from bananas_jax.predictors.dngo import DNGO
from bananas_jax.predictors.ensemble import LOSSES, MetaNet, MetaNetEnsemble
