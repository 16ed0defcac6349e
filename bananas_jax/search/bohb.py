"""BOHB (Falkner et al. 2018): Hyperband whose new architectures come from a TPE-style model.

The model is BOHB's: kernel density estimates over the categorical decisions that build a
cell (``space.to_choices``, the decisions the TPE search models), one of the good results
and one of the bad, at the highest fidelity that has enough results; a new architecture is
the best of ``num_samples`` draws from the widened good density by ``l(x) / g(x)``. The
defaults are the paper's and hpbandster's: ``top_n_percent = 15``, ``num_samples = 64``,
``random_fraction = 1/3``, ``bandwidth_factor = 3``, ``min_bandwidth = 1e-3`` and at least
``decisions + 1`` points per density (``min_points_in_model = 0``).

A density is a product of Aitchison-Aitken kernels, one per decision of ``c`` options: a
point's own option weighs ``1 - h``, each other ``h / (c - 1)``. ``h`` is statsmodels'
normal-reference bandwidth of the decision's codes, ``1.06 * std * n ** (-1 / (4 + D))``,
at least ``min_bandwidth`` and at most ``(c - 1) / c`` (where the kernel is uniform and
stays a density; hpbandster leaves it unbounded). Draws widen every bandwidth by
``bandwidth_factor``, as the paper says (hpbandster widens only continuous ones).
Until a fidelity has enough results (``max(min_points, 15% of n)`` good ones and
``min_points + 1`` more, hpbandster's rule), and for a ``random_fraction`` of the new
architectures, they are uniformly random: the same draws Hyperband makes with that key.
"""

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from bananas_jax import spaces
from bananas_jax.history import novel, ranks_among, take_valid_or_fill
from bananas_jax.search.multifidelity import Hyperband


@dataclasses.dataclass(frozen=True)
class Bohb(Hyperband):
  """BOHB with the paper's defaults; every field is a config field."""

  name: ClassVar[str] = 'bohb'
  min_points_in_model: int = 0  # 0: decisions + 1
  top_n_percent: int = 15
  num_samples: int = 64
  random_fraction: float = 1 / 3
  bandwidth_factor: float = 3.0
  min_bandwidth: float = 1e-3

  def __post_init__(self):
    super().__post_init__()
    if not 0 < self.top_n_percent < 100:
      raise ValueError(f'bohb: top_n_percent must be in (0, 100), got {self.top_n_percent}')
    if not 0 <= self.random_fraction <= 1:
      raise ValueError(f'bohb: random_fraction must be in [0, 1], got {self.random_fraction}')
    for name in ('num_samples', 'bandwidth_factor', 'min_bandwidth'):
      if getattr(self, name) <= 0:
        raise ValueError(f'bohb: {name} must be positive, got {getattr(self, name)}')
    if self.min_points_in_model < 0:
      raise ValueError(f'bohb: min_points_in_model must be 0 (decisions + 1) or positive, '
                       f'got {self.min_points_in_model}')

  @property
  def min_points(self):
    return self.min_points_in_model or len(self.space.choices) + 1

  def model(self, state):
    """``(ready, good, bad)``: whether some fidelity has enough results, and the masks of
    the good and bad results of the highest such fidelity."""
    history, epochs = state.history, state.epochs
    ready, good, bad = jnp.array(False), history.mask & False, history.mask & False
    for fidelity in self.fidelities:  # a higher fidelity with a model replaces a lower one
      members = history.mask & (epochs == fidelity)
      n = jnp.sum(members)
      n_good = jnp.maximum(self.min_points, self.top_n_percent * n // 100)
      n_bad = jnp.maximum(self.min_points, (100 - self.top_n_percent) * n // 100)
      rank = ranks_among(history.val_error, members)
      enough = n - n_good >= self.min_points
      ready = ready | enough
      good = jnp.where(enough, members & (rank < n_good), good)
      bad = jnp.where(enough, members & (rank >= n_good) & (rank < n_good + n_bad), bad)
    return ready, good, bad

  def bandwidths(self, choices, members):
    """``float32[D]``: each decision's normal-reference bandwidth over ``members``."""
    n = jnp.maximum(jnp.sum(members), 1)
    mean = jnp.sum(jnp.where(members[:, None], choices, 0), axis=0) / n
    var = jnp.sum(jnp.where(members[:, None], (choices - mean) ** 2, 0), axis=0) / n
    h = 1.06 * jnp.sqrt(var) * n ** (-1 / (4 + choices.shape[1]))
    return jnp.clip(h, self.min_bandwidth, self.uniform_bandwidth)

  @property
  def uniform_bandwidth(self):
    options = np.asarray(self.space.choices, np.float32)
    return (options - 1) / options

  def log_density(self, x, choices, members, h):
    """``float32[M]``: log KDE of ``members`` (rows of ``choices``) at the rows of ``x``."""
    other = h / (np.asarray(self.space.choices) - 1)
    same = x[:, None, :] == choices[None, :, :]
    log_k = jnp.sum(jnp.log(jnp.where(same, 1 - h, other)), axis=2)
    log_k = jnp.where(members[None, :], log_k, -jnp.inf)
    return jax.nn.logsumexp(log_k, axis=1) - jnp.log(jnp.maximum(jnp.sum(members), 1))

  def propose(self, key, choices, good, bad):
    """One architecture's decisions: the best of ``num_samples`` draws from the widened
    good density by ``l / g``."""
    pick_key, keep_key, move_key = jax.random.split(key, 3)
    h_good, h_bad = self.bandwidths(choices, good), self.bandwidths(choices, bad)
    start = choices[jax.random.choice(pick_key, good.shape[0], (self.num_samples,),
                                      p=good / jnp.sum(good))]
    wide = jnp.minimum(h_good * self.bandwidth_factor, self.uniform_bandwidth)
    options = np.asarray(self.space.choices)
    keep = jax.random.uniform(keep_key, start.shape) >= wide
    step = 1 + jnp.floor(jax.random.uniform(move_key, start.shape) * (options - 1))
    draws = jnp.where(keep, start, (start + step.astype(start.dtype)) % options)
    ratio = (self.log_density(draws, choices, good, h_good)
             - self.log_density(draws, choices, bad, h_bad))
    return draws[jnp.argmax(ratio)]

  def new_archs(self, key, state, num):
    random = super().new_archs(key, state, num)
    use_key, draw_key, fill_key = jax.random.split(jax.random.fold_in(key, 1), 3)
    ready, good, bad = self.model(state)
    choices = self.space.to_choices(state.history.archs)
    modelled = self.space.from_choices(jax.vmap(
        lambda k: self.propose(k, choices, good, bad))(jax.random.split(draw_key, num)))
    use = ready & (jax.random.uniform(use_key, (num,)) >= self.random_fraction)
    archs = spaces.where(use, modelled, random)
    fresh = novel(self.space.canonical_key(archs), self.space.is_valid(archs),
                  state.history.keys)
    return take_valid_or_fill(fill_key, self.space, archs, fresh, num, state.history.keys)
