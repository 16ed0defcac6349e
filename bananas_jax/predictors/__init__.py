"""Performance predictors: the meta neural network ensemble of BANANAS."""

from bananas_jax.predictors.ensemble import LOSSES, MetaNet, MetaNetEnsemble
