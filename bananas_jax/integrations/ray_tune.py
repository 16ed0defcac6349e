"""BANANAS in Ray Tune: Tune's ``OptunaSearch`` asking a :class:`BananasSampler`.

    from ray import tune
    from bananas_jax.integrations import ray_tune

    def trainable(config):
      arch = ray_tune.arch_of(config, space)   # int32[...], what to build and train
      return {'val_error': train(arch)}

    tuner = tune.Tuner(trainable, tune_config=tune.TuneConfig(
        search_alg=ray_tune.searcher(space, 'val_error', 'min', total_queries=150),
        num_samples=150, max_concurrent_trials=2))
    tuner.fit()

Needs the ``[ray]`` extra (``pip install 'bananas-jax[ray]'``). The searcher, hence the
sampler's model, lives in Tune's driver process; trials run in Ray's workers. The sampler
runs in its ``'async'`` mode: a proposal never waits for a running trial, where the
``'sync'`` mode would wait inside the driver, which is what reports the trials it waits for.
A trial that errors is told as a failure (a penalty: see ``optuna_sampler``); one that ends
without its metric, as pruned.
"""

from optuna.distributions import CategoricalDistribution
from ray.tune.search.optuna import OptunaSearch

from bananas_jax import spaces
from bananas_jax.integrations import optuna_sampler, optuna_space


def searcher(space, metric, mode, **sampler_kwargs):
  """A Tune searcher over ``space`` (a space of this project or ``{name: [options]}``)
  whose proposals are :class:`BananasSampler`'s, in its async mode (``mode`` is Tune's:
  ``'min'`` or ``'max'``; ``sampler_kwargs``: the sampler's other arguments). Tune's
  ``param_space`` is left empty: the searcher holds the space."""
  sampler = optuna_sampler.BananasSampler(space, mode='async', **sampler_kwargs)
  distributions = {name: CategoricalDistribution(options)
                   for name, options in optuna_space.decisions_of(sampler.space).items()}
  return OptunaSearch(distributions, metric=metric, mode=mode, sampler=sampler)


def arch_of(config, space):
  """The architecture (``int32[...]``, unbatched) of a Tune trial's ``config``."""
  if isinstance(space, dict):
    space = spaces.CategoricalSpace.from_decisions(space)
  arch = optuna_space.arch_of(space, config)
  if arch is None:
    raise ValueError(f'config {config!r} is not a point of the space; its decisions: '
                     f'{optuna_space.decisions_of(space)!r}')
  return arch
