"""A search space of named categorical decisions, e.g. a backbone's per-stage choices.

``CategoricalSpace.from_decisions({'stage1_op': ['conv3x3', 'mbconv'], 'stage1_width': [16,
32, 64]})`` is a space like the built-in ones: an architecture is ``int32[D]``, the index of
the option taken at each decision, and sampling, mutation, neighbours, canonical keys and the
one-hot and categorical encodings are jit-able functions of a batch. It is the space
:class:`bananas_jax.integrations.optuna_sampler.BananasSampler` builds from an Optuna study's distributions.
"""

import dataclasses
import functools
import json
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from bananas_jax.spaces.base import checked_encoding_dim, mixed_radix_key

@dataclasses.dataclass(frozen=True)
class CategoricalSpace:
  """Decisions ``names[d]`` with options ``options[d]`` (strings, numbers, booleans)."""

  names: tuple[str, ...]
  options: tuple[tuple[Any, ...], ...]
  name: str = 'categorical'
  encodings: ClassVar[tuple[str, ...]] = ('onehot', 'categorical')

  @classmethod
  def from_decisions(cls, decisions, name='categorical'):
    """The space of ``{decision name: [options]}``, decisions in the mapping's order."""
    return cls(tuple(decisions), tuple(tuple(o) for o in decisions.values()), name)

  def __post_init__(self):
    object.__setattr__(self, 'names', tuple(self.names))
    object.__setattr__(self, 'options', tuple(tuple(o) for o in self.options))
    if not self.names:
      raise ValueError('a categorical space needs at least one decision; got none')
    if len(self.names) != len(self.options):
      raise ValueError(f'{len(self.names)} decision names but {len(self.options)} option lists')
    for decision, options in zip(self.names, self.options):
      if not options:
        raise ValueError(f'decision {decision!r} has no options')
      seen = set()
      for option in options:
        if (type(option), option) in seen:  # by type too: 1 and True are different options
          raise ValueError(f'decision {decision!r} lists option {option!r} more than once: '
                           f'{list(options)}')
        seen.add((type(option), option))

  def decisions(self):
    """``{decision name: its options}`` (what :meth:`from_decisions` takes)."""
    return dict(zip(self.names, self.options))

  @property
  def choices(self):
    return tuple(len(o) for o in self.options)

  def empty(self, num):
    return jnp.zeros((num, len(self.names)), jnp.int32)

  def is_valid(self, archs):
    return jnp.ones(archs.shape[0], bool)

  def sample(self, key, num):
    """Every decision uniform over its options."""
    return jax.random.randint(key, (num, len(self.names)), 0, jnp.asarray(self.choices),
                              jnp.int32)

  def mutate(self, key, archs, mutation_rate=1.0):
    """Each decision independently, with probability ``mutation_rate / D`` (one decision on
    average at the default rate), takes a different option; one-option decisions stay."""
    flip_key, op_key = jax.random.split(key)
    sizes = jnp.asarray(self.choices)
    flip = (jax.random.uniform(flip_key, archs.shape) < mutation_rate / len(self.names))
    shift = jax.random.randint(op_key, archs.shape, 1, jnp.maximum(sizes, 2), jnp.int32)
    return jnp.where(flip & (sizes > 1), (archs + shift) % sizes, archs)

  def from_choices(self, choices):
    return choices.astype(jnp.int32)

  def to_choices(self, archs):
    return archs

  @functools.cached_property
  def _edits(self):
    """Every single edit as (decision, shift), shifts ``1..K_d - 1``."""
    return np.array([(d, s) for d, k in enumerate(self.choices) for s in range(1, k)],
                    np.int32).reshape(-1, 2)

  def neighbours(self, arch):
    """``int32[sum(K_d - 1), D]``: every architecture one decision away."""
    decision, shift = self._edits.T
    sizes = np.asarray(self.choices, np.int32)[decision]
    rows = jnp.arange(decision.shape[0])
    return jnp.tile(arch, (rows.shape[0], 1)).at[rows, decision].set(
        (arch[decision] + shift) % sizes)

  def canonical_key(self, archs):
    """The mixed-radix number of the indices (exact) when the space has fewer than 2^31
    architectures, else a 31-bit hash of them."""
    return mixed_radix_key(archs, self.choices)

  def encode(self, archs, encoding='onehot', cutoff=0):
    """``onehot``: the options taken, ``sum(K_d)`` features; ``categorical``: the indices."""
    self.encoding_dim(encoding, cutoff)
    if encoding == 'categorical':
      return archs.astype(jnp.float32)
    offsets = jnp.asarray(np.cumsum((0,) + self.choices[:-1]), jnp.int32)
    return jnp.max(jax.nn.one_hot(archs + offsets, sum(self.choices)), axis=1)

  def encoding_dim(self, encoding='onehot', cutoff=0):
    return checked_encoding_dim(self, {'onehot': sum(self.choices),
                                       'categorical': len(self.names)}, encoding, cutoff)

  def to_string(self, arch):
    """The options taken, as a JSON object ``{"name": option, ...}``."""
    return json.dumps({n: o[int(i)] for n, o, i in zip(self.names, self.options,
                                                       np.asarray(arch))})

  def from_string(self, text):
    """Parses :meth:`to_string`'s form; refuses anything else with a message naming it."""
    try:
      taken = json.loads(text)
    except (TypeError, ValueError):
      taken = None
    if not isinstance(taken, dict) or list(taken) != list(self.names):
      raise ValueError(f'malformed {self.name} architecture {text!r}; expected a JSON object '
                       f'with the decisions {", ".join(self.names)} in this order')
    indices = []
    for decision, options in zip(self.names, self.options):
      option = taken[decision]
      matches = [i for i, o in enumerate(options) if o == option and type(o) is type(option)]
      if not matches:
        raise ValueError(f'unknown option {option!r} for decision {decision!r}; accepted: '
                         f'{", ".join(map(repr, options))}')
      indices.append(matches[0])
    return np.array(indices, np.int32)
