"""BANANAS in JAX: neural architecture search with an ensemble of meta neural networks.

  import bananas_jax as bj
  benchmark = bj.benchmarks.load('nasbench201', 'cifar10', 200)
  algorithm = bj.search.make('bananas', benchmark.space, total_queries=150)
  trials = bj.search.run_trials(algorithm, benchmark, seeds=range(10))

The modules below load on first use (``dir(bananas_jax)`` lists them), so that importing
the package starts neither NumPy nor JAX: the launchers set their environment first.
"""

import importlib

__version__ = '0.2.0'

_MODULES = ('spaces', 'benchmarks', 'predictors', 'acquisition', 'search', 'experiment',
            'integrations', 'stepwise', 'sweep', 'predictor_study', 'results', 'plots')
_NAMES = {'ALGORITHMS': 'search', 'run_trials': 'search', 'best_by_validation': 'search',
          'run_search': 'experiment', 'BananasSampler': 'integrations.optuna_sampler'}


def __getattr__(name):
  if name in _MODULES:
    return importlib.import_module(f'{__name__}.{name}')
  if name in _NAMES:
    return getattr(importlib.import_module(f'{__name__}.{_NAMES[name]}'), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
  return sorted(['__version__', *_MODULES, *_NAMES])
