"""The search space of an Optuna study: from its distributions, as Optuna parameters, and
an architecture from a trial's suggestions."""

import jax.numpy as jnp
import numpy as np
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from bananas_jax import spaces


def space_from_distributions(distributions, max_options=100):
  """``(CategoricalSpace, names left to the independent sampler)`` of Optuna distributions:
  categorical ones, integer ones and stepped floats with at most ``max_options`` values
  are decisions; continuous floats (and larger ranges) are left out. Raises TypeError
  naming a distribution of another kind."""
  decisions, left_out = {}, []
  for name, dist in distributions.items():
    if isinstance(dist, CategoricalDistribution):
      decisions[name] = tuple(dist.choices)
    elif isinstance(dist, (IntDistribution, FloatDistribution)) and dist.step is not None:
      count = int(round((dist.high - dist.low) / dist.step)) + 1
      if count > max_options:
        left_out.append(name)
      elif isinstance(dist, IntDistribution):
        decisions[name] = tuple(range(dist.low, dist.high + 1, dist.step))
      else:
        decisions[name] = tuple(round(dist.low + i * dist.step, 12) for i in range(count))
    elif isinstance(dist, (IntDistribution, FloatDistribution)):
      left_out.append(name)  # a log-scaled integer or a continuous float
    else:
      raise TypeError(f'parameter {name!r} has a {type(dist).__name__}, which BananasSampler '
                      f'cannot take; accepted: CategoricalDistribution, IntDistribution, '
                      f'FloatDistribution')
  return (spaces.CategoricalSpace.from_decisions(decisions) if decisions else None), left_out


def decisions_of(space):
  """``{decision name: options}`` of a space: its own names, or ``choice_<i>`` over the
  integers of :meth:`from_choices` for spaces without them (NAS-Bench-101, DARTS)."""
  if hasattr(space, 'decisions'):
    return space.decisions()
  return {f'choice_{i}': tuple(range(k)) for i, k in enumerate(space.choices)}


def check_distinct(space):
  """Refuses options of one decision that compare equal: Optuna stores a choice as the
  index of the first option equal to it, so ``True`` would come back as ``1``."""
  for name, options in decisions_of(space).items():
    for i, a in enumerate(options):
      for b in options[i + 1:]:
        if a == b:
          raise ValueError(f'decision {name!r} has options {a!r} and {b!r}, which compare '
                           f'equal: Optuna cannot tell them apart; make them distinct '
                           f'values (e.g. strings)')


def arch_of(space, params, decisions=None):
  """The architecture (``int32[...]``, unbatched) that ``params`` (``{decision name: value}``,
  a trial's params or a Ray Tune config) choose in ``space``, or None where a decision is
  missing or holds a value that is not one of its options. A value matches an option of
  its own type (so ``1`` is not ``True``), floats to relative 1e-9 (a stepped float's
  stored value)."""
  choices = []
  for name, options in (decisions or decisions_of(space)).items():
    if name not in params:
      return None
    value = params[name]
    matches = [i for i, o in enumerate(options) if type(o) is type(value) and (
        np.isclose(o, value, rtol=1e-9, atol=0) if isinstance(o, float) else o == value)]
    if not matches:
      return None
    choices.append(matches[0])
  return np.asarray(spaces.take(space.from_choices(jnp.asarray([choices], jnp.int32)), 0))


def suggest(trial, space):
  """Suggests every decision of ``space`` on an Optuna trial; returns the architecture
  (``int32[...]``, unbatched) to build and train."""
  decisions = decisions_of(space)
  return arch_of(space, {name: trial.suggest_categorical(name, options)
                         for name, options in decisions.items()}, decisions)
