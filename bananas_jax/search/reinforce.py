"""REINFORCE (Williams 1992) with a factorised categorical policy over the cell's decisions.

The policy holds one vector of logits per decision of the space (NAS-Bench-201: an op for
each of the 6 edges). After each query the policy takes an Adam step on
-(reward - baseline) * log p(architecture), reward = validation accuracy (100 - error, %),
baseline an exponential moving average of past rewards. Queries are on-policy samples, so
unlike the other algorithms REINFORCE may query an architecture again (a repeat costs a
query, as it would for a real controller).

Defaults (the paper gives none): Adam learning rate 0.1, baseline decay 0.9; with rewards
in percent, Adam's scale invariance makes the step size the learning rate.
"""

import dataclasses
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import optax

from bananas_jax.history import History
from bananas_jax.spaces import until_valid
from bananas_jax.search.base import check_schedule


class ReinforceState(NamedTuple):
  history: History
  logits: jax.Array  # float32[decisions, max options]; impossible options are -inf
  opt_state: Any
  baseline: jax.Array  # float32 scalar; nan until the first reward


@dataclasses.dataclass(frozen=True)
class Reinforce:
  """REINFORCE; every field is a config field."""

  name: ClassVar[str] = 'reinforce'
  space: Any
  total_queries: int = 150
  num_init: int = 10
  k: int = 1
  learning_rate: float = 0.1
  baseline_decay: float = 0.9

  def __post_init__(self):
    check_schedule(self)
    if not 0 <= self.baseline_decay < 1:
      raise ValueError(f'reinforce: baseline_decay must be in [0, 1), got {self.baseline_decay}')

  @property
  def optimizer(self):
    return optax.adam(self.learning_rate)

  def init(self, key):
    del key
    choices = jnp.asarray(self.space.choices)
    logits = jnp.where(jnp.arange(max(self.space.choices)) < choices[:, None], 0.0, -jnp.inf)
    return ReinforceState(History.empty(self.space, self.total_queries), logits,
                          self.optimizer.init(logits), jnp.array(jnp.nan, jnp.float32))

  def ask(self, key, state, initial):
    """Policy samples, each redrawn until valid (the policy conditioned on validity)."""
    num = self.num_init if initial else self.k

    def draw(key):
      choices = jax.random.categorical(key, state.logits, shape=(num, state.logits.shape[0]))
      return self.space.from_choices(choices)

    return until_valid(key, draw, self.space.is_valid)

  def tell(self, state, archs, val_error):
    reward = 100.0 - val_error
    baseline = jnp.where(jnp.isnan(state.baseline), jnp.mean(reward), state.baseline)
    advantage = reward - baseline

    def loss(logits):
      log_probs = jax.nn.log_softmax(logits, axis=-1)
      choices = self.space.to_choices(archs)
      picked = jnp.take_along_axis(log_probs[None], choices[..., None], axis=-1)[..., 0]
      return -jnp.mean(advantage * picked.sum(axis=1))

    updates, opt_state = self.optimizer.update(jax.grad(loss)(state.logits), state.opt_state)
    decay = self.baseline_decay
    return ReinforceState(state.history.add(self.space, archs, val_error),
                          optax.apply_updates(state.logits, updates), opt_state,
                          decay * baseline + (1 - decay) * jnp.mean(reward))
