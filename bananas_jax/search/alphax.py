"""AlphaX (Wang et al. 2019): Monte Carlo tree search over the decisions that build a cell,
with a meta network choosing among rollouts.

The tree's levels are the space's categorical decisions (``space.choices``: NAS-Bench-201
an op per edge, NAS-Bench-101 the edge bits then the inner ops, DARTS each pair's input and
op), a node a prefix of them, held in fixed-capacity arrays (a child table, visit counts
and summed rewards), one node added per query, so a trial's tree is a pytree that jit
compiles and vmaps like any history. After ``num_init`` random queries, each step:

1. **Selection**: from the root, while every option of a node's decision has a child,
   move to the child with the best UCT score ``Q / n + c sqrt(2 ln N / n)``.
2. **Expansion**: an untried option of that node, uniformly at random.
3. **Simulation**: ``num_rollouts`` random completions of the new prefix; the meta network
   (fitted from scratch on the history each step, as BANANAS' model) predicts their
   validation error and the best-predicted new cell is queried.
4. **Backpropagation** (in ``tell``): the queried cell's accuracy (1 - error / 100) is added
   along its path, creating the one node of its prefix that is new.

AlphaX's meta network also adds its predictions of the rollouts to the backed-up value;
here only queried accuracies are backed up, so a node's value is an average of real
results. The exploration constant, rollouts and model are config fields.
"""

import dataclasses
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bananas_jax.history import History, novel, take_valid_or_fill
from bananas_jax.predictors import MetaNetEnsemble
from bananas_jax.predictors.base import check_at_least_one
from bananas_jax.search.base import ModelBasedSearch, check_predictor_encoding, check_schedule


class Tree(NamedTuple):
  """A search tree in fixed-capacity arrays; node 0 is the root (the empty prefix)."""

  children: jax.Array  # int32[capacity, max options]: -1 where no child yet
  visits: jax.Array  # float32[capacity]
  reward: jax.Array  # float32[capacity]: summed accuracies backed up through the node
  size: jax.Array  # int32 scalar: nodes in use


class AlphaXState(NamedTuple):
  history: History
  tree: Tree


@dataclasses.dataclass(frozen=True)
class AlphaX(ModelBasedSearch):
  """AlphaX; every field is a config field."""

  name: ClassVar[str] = 'alphax'
  space: Any
  total_queries: int = 150
  num_init: int = 10
  k: int = 1  # one tree search per query
  exploration: float = 0.5  # c of the UCT score (rewards are accuracies in [0, 1])
  num_rollouts: int = 100
  encoding: str = 'adjacency'  # the meta network's input
  cutoff: int = 40
  predictor: MetaNetEnsemble = MetaNetEnsemble(num_ensemble=1)

  def __post_init__(self):
    check_schedule(self)
    if self.k != 1:
      raise ValueError(f'alphax: k must be 1 (one tree search per query), got {self.k}')
    check_at_least_one(self.name, self, 'num_rollouts')
    if self.exploration < 0:
      raise ValueError(f'alphax: exploration must be non-negative, got {self.exploration}')
    self.space.encoding_dim(self.encoding, self.cutoff)  # refuses unknown encodings
    check_predictor_encoding(self.name, self.predictor, self.encoding)

  @property
  def options(self):
    return np.asarray(self.space.choices)

  def init(self, key):
    del key
    capacity = self.total_queries + 1  # the root and at most one node per query
    tree = Tree(jnp.full((capacity, self.options.max()), -1, jnp.int32),
                jnp.zeros(capacity), jnp.zeros(capacity), jnp.ones((), jnp.int32))
    return AlphaXState(History.empty(self.space, self.total_queries), tree)

  def ask(self, key, state, initial):
    if initial:
      return self.initial_archs(key, state.history)
    return self.propose(key, state)[0]

  def expand_prefix(self, key, tree):
    """``int32[D]``: the decisions of the expanded prefix (selection, then one untried
    option), -1 past it; all decisions set when the selected path reaches a leaf."""
    options = jnp.asarray(self.options)
    possible = jnp.arange(tree.children.shape[1]) < options[:, None]  # [D, max options]

    def level(d, carry):
      node, prefix, open_ = carry
      kids = tree.children[node]
      untried = possible[d] & (kids < 0)
      n = jnp.maximum(tree.visits[kids], 1e-9)
      uct = (tree.reward[kids] / n
             + self.exploration * jnp.sqrt(2 * jnp.log(jnp.maximum(tree.visits[node], 1)) / n))
      draw = jax.random.uniform(jax.random.fold_in(key, d), untried.shape)
      expand = jnp.any(untried)
      option = jnp.where(expand, jnp.argmax(jnp.where(untried, draw, -1.0)),
                         jnp.argmax(jnp.where(possible[d], uct, -jnp.inf)))
      prefix = prefix.at[d].set(jnp.where(open_, option, -1))
      return kids[option], prefix, open_ & ~expand

    prefix = jnp.full(len(self.options), -1, jnp.int32)
    _, prefix, _ = jax.lax.fori_loop(0, len(self.options), level,
                                     (jnp.zeros((), jnp.int32), prefix, jnp.ones((), bool)))
    return prefix

  def propose(self, key, state):
    select_key, rollout_key, fit_key, fill_key = jax.random.split(key, 4)
    history = state.history
    prefix = self.expand_prefix(select_key, state.tree)
    rollouts = self.space.to_choices(self.space.sample(rollout_key, self.num_rollouts))
    cands = self.space.from_choices(jnp.where(prefix >= 0, prefix, rollouts))
    fresh = novel(self.space.canonical_key(cands), self.space.is_valid(cands), history.keys)
    encode = lambda archs: self.space.encode(archs, self.encoding, self.cutoff)
    params = self.predictor.fit(fit_key, encode(history.archs), history.val_error,
                                history.mask)
    mean = self.predictor.predict(params, encode(cands))[0]
    best = jnp.argmin(jnp.where(fresh, mean, jnp.inf))
    archs = jax.tree.map(lambda leaf: leaf[best][None], cands)
    chosen = take_valid_or_fill(fill_key, self.space, archs, fresh[best][None], 1,
                                history.keys)
    return chosen, jnp.where(fresh[best], mean[best], jnp.nan)[None]

  def tell(self, state, archs, val_error):
    """Adds the queries to the history and backs each one's accuracy up its path."""
    choices = self.space.to_choices(archs)

    def back_up(i, tree):
      def level(d, carry):
        node, on_path, tree, open_ = carry
        child = tree.children[node, choices[i, d]]
        new = open_ & (child < 0)
        child = jnp.where(new, tree.size, child)
        tree = tree._replace(children=tree.children.at[node, choices[i, d]].set(
            jnp.where(open_, child, tree.children[node, choices[i, d]])),
                             size=tree.size + new)
        on_path = on_path.at[child].set(on_path[child] | open_)
        return child, on_path, tree, open_ & ~new

      on_path = jnp.zeros(tree.visits.shape, bool).at[0].set(True)
      _, on_path, tree, _ = jax.lax.fori_loop(
          0, len(self.options), level, (jnp.zeros((), jnp.int32), on_path, tree,
                                        jnp.ones((), bool)))
      return tree._replace(visits=tree.visits + on_path,
                           reward=tree.reward + on_path * (1 - val_error[i] / 100))

    tree = jax.lax.fori_loop(0, val_error.shape[0], back_up, state.tree)
    return AlphaXState(state.history.add(self.space, archs, val_error), tree)
