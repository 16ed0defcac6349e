"""Bridges to the tools NAS users already run: ``optuna_sampler.BananasSampler``, with its
parts by job (``optuna_storage``, ``optuna_space``, ``optuna_slots``, ``optuna_replay``),
and ``ray_tune``, that sampler as Ray Tune's searcher (the ``[ray]`` extra)."""
