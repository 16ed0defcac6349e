"""The launchers' ml_collections configs (``--config=bananas_jax/configs/<name>.py``)."""
