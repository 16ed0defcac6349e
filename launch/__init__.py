"""``python -m launch.<name>`` in a checkout: aliases of :mod:`bananas_jax.launch` (the
launchers live in the package, so that an installed copy has them too)."""
