"""The DARTS evaluation network, CIFAR-10 input and training, in JAX/Flax."""

from bananas_jax.darts.network import DartsNetwork, count_params
