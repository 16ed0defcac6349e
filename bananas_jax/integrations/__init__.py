"""Bridges to the tools NAS users already run: ``optuna_sampler.BananasSampler``."""
