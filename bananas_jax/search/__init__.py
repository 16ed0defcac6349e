"""Search algorithms by name; each is built from its own section of the run config.

Every algorithm declares its ``name`` once, as a class variable; :data:`ALGORITHMS` maps
those names to the classes. A new algorithm is one more class in that tuple.

``default_settings(name)`` is that section with every field at its default (configs are
made from it, so each default is written once, in the algorithm's dataclass); a field
holding a dataclass (``bananas.predictor``) is a nested section.
"""

import dataclasses

from bananas_jax.predictors import BOHAMIANN
from bananas_jax.search.alphax import AlphaX
from bananas_jax.search.asha import Asha
from bananas_jax.search.bananas import Bananas, BananasPlus, BananasPrefilter
from bananas_jax.search.bananas_mf import BananasMF, CellFeatures
from bananas_jax.search.base import Algorithm, HistorySearch, ModelBasedSearch, num_steps
from bananas_jax.search.evolution import RegularizedEvolution
from bananas_jax.search.gp_bo import GPBayesOpt
from bananas_jax.search.local_search import LocalSearch
from bananas_jax.search.bohb import Bohb
from bananas_jax.search.model_based import Bohamiann, Bonas, Dngo, GcnPredictor, Npenas
from bananas_jax.search.multifidelity import (Hyperband, MultiFidelitySearch, SuccessiveHalving,
                                              is_multi_fidelity, with_fidelities)
from bananas_jax.search.random_search import RandomSearch
from bananas_jax.search.reinforce import Reinforce
from bananas_jax.search.runner import TrialResults, best_by_validation, cost_trace, run_trials
from bananas_jax.search.tpe import TreeParzenEstimator

ALGORITHMS = {cls.name: cls for cls in (
    Bananas, BananasPlus, RandomSearch, RegularizedEvolution, LocalSearch, GPBayesOpt,
    Reinforce, TreeParzenEstimator, Dngo, Bohamiann, Bonas, GcnPredictor, Npenas, AlphaX,
    SuccessiveHalving, Hyperband, Asha, Bohb, BananasPrefilter, BananasMF)}

# Settings that were renamed: a config that still uses an old name is refused with the new.
RENAMED_SETTINGS = {GPBayesOpt: {'distance': 'encoding'},
                    BOHAMIANN: {'num_steps': 'num_sghmc_steps'}}


# Fields a driver fills in from the run and its benchmark, never a config section.
DRIVER_FIELDS = ('space', 'total_queries', 'cell_features')


def _settable_fields(cls):
  """The fields a config section sets: every init field but the driver's."""
  return {f.name: f for f in dataclasses.fields(cls)
          if f.init and f.name not in DRIVER_FIELDS}


def as_config(value):
  """A default as a config value: dataclasses as dicts, tuples as lists (JSON-friendly)."""
  if dataclasses.is_dataclass(value):
    return {f.name: as_config(getattr(value, f.name)) for f in dataclasses.fields(value)}
  return list(value) if isinstance(value, tuple) else value


def default_settings(name: str) -> dict:
  """The config section of algorithm ``name`` with every field at its default."""
  if name not in ALGORITHMS:
    raise ValueError(f'unknown algorithm {name!r}; accepted: {", ".join(ALGORITHMS)}')
  return {n: as_config(f.default) for n, f in _settable_fields(ALGORITHMS[name]).items()}


def build_settings(cls, settings, label):
  """Constructor arguments from a config section: nested sections become their dataclass
  (unset fields at their defaults), lists become tuples (hashable: algorithms are jit
  static arguments). Unknown fields are refused with the accepted ones."""
  fields = _settable_fields(cls)
  renamed = sorted(set(settings) & set(RENAMED_SETTINGS.get(cls, {})))
  if renamed:
    raise ValueError(f'setting {renamed[0]!r} of {label} is now called '
                     f'{RENAMED_SETTINGS[cls][renamed[0]]!r}')
  unknown = sorted(set(settings) - set(fields))
  if unknown:
    raise ValueError(f'unknown setting {unknown[0]!r} for {label}; accepted: '
                     f'{", ".join(sorted(fields))}')
  built = {}
  for name, value in settings.items():
    default = fields[name].default
    if dataclasses.is_dataclass(default) and isinstance(value, dict):
      value = type(default)(**build_settings(type(default), value, f'{label}.{name}'))
    elif isinstance(value, list):
      value = tuple(value)
    built[name] = value
  return built


def algorithm_class(name: str, settings=None):
  """The class that ``make(name, ..., settings)`` builds: ``name`` is the algorithm, or a
  variant's label whose settings name the algorithm in an ``algorithm`` field."""
  algorithm = (settings or {}).get('algorithm', name)
  if algorithm not in ALGORITHMS:
    raise ValueError(f'unknown algorithm {algorithm!r}; accepted: {", ".join(ALGORITHMS)}')
  return ALGORITHMS[algorithm]


def make(name: str, space, total_queries: int, settings=None) -> Algorithm:
  """Builds an algorithm from a dict of its settings (its config section).

  ``name`` is the algorithm, or a variant's label whose settings name the algorithm in
  an ``algorithm`` field (e.g. ``bananas_adjacency: {algorithm: bananas, encoding:
  adjacency}``), so ablations run side by side under their own names.
  """
  cls = algorithm_class(name, settings)
  settings = {k: v for k, v in (settings or {}).items() if k != 'algorithm'}
  return cls(space=space, total_queries=total_queries,
             **build_settings(cls, settings, name))
