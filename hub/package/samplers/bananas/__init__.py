"""BANANAS for Optuna: the sampler of bananas-jax (``pip install -r requirements.txt``)."""

from bananas_jax.integrations.optuna_sampler import BananasSampler, open_storage, suggest

__all__ = ['BananasSampler', 'open_storage', 'suggest']
