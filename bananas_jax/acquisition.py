"""Acquisition functions and acquisition optimisation (candidate generation) for BANANAS.

Scores are minimised: the ``k`` lowest-scoring candidates are queried. Every function
takes the model's predictive mean and standard deviation per candidate (for an ensemble:
the mean and population standard deviation over members); Thompson sampling also takes
the members' own predictions.

Candidate generators return fixed-size batches with a validity mask; valid candidates
are distinct by canonical key and were never queried in the trial.
"""

import functools

import jax
import jax.numpy as jnp
from jax.scipy.stats import norm

from bananas_jax import spaces
from bananas_jax.history import novel, sample_new, take_valid_or_fill


def _its(key, mean, std, y_min, members):
  """Independent Thompson sampling: one draw per candidate from Normal(mean, std)."""
  return mean + std * jax.random.normal(key, mean.shape)


def _ucb(key, mean, std, y_min, members):
  """Lower confidence bound mean - 0.5 std (the original calls it ucb)."""
  return mean - 0.5 * std


def _ei(key, mean, std, y_min, members):
  """Expected improvement, with the original's std / 5 scaling, negated."""
  s = jnp.maximum(std / 5.0, 1e-12)
  g = (y_min - mean) / s
  return -s * (g * norm.cdf(g) + norm.pdf(g))


def _pi(key, mean, std, y_min, members):
  """Probability of improvement, negated."""
  return -norm.cdf((y_min - mean) / jnp.maximum(std, 1e-12))


def _ts(key, mean, std, y_min, members):
  """Thompson sampling: the predictions of one ensemble member chosen at random."""
  return members[jax.random.randint(key, (), 0, members.shape[0])]


def _exploit(key, mean, std, y_min, members):
  """The mean prediction alone."""
  return mean


ACQ_FNS = {'its': _its, 'ucb': _ucb, 'ei': _ei, 'pi': _pi, 'ts': _ts, 'exploit': _exploit}
NEEDS_MEMBERS = ('ts',)
RANDOMISED = ('its', 'ts')  # a new key, a new score: each proposal can have its own draw


def score(acq_fn, key, mean, std, y_min, members=None):
  """``float32[C]`` scores (lower is better) from a predictive mean and standard deviation;
  ``members[M, C]``, an ensemble's individual predictions, only for ``ts``."""
  return ACQ_FNS[acq_fn](key, mean, std, y_min, members)


def check_acq_fn(acq_fn, has_members=True):
  """Refuses unknown names, and ``ts`` for a model without ensemble members."""
  if acq_fn not in ACQ_FNS:
    raise ValueError(f'unknown acq_fn {acq_fn!r}; accepted: {", ".join(ACQ_FNS)}')
  if acq_fn in NEEDS_MEMBERS and not has_members:
    raise ValueError(f'acq_fn {acq_fn!r} needs an ensemble\'s members; accepted here: '
                     f'{", ".join(a for a in ACQ_FNS if a not in NEEDS_MEMBERS)}')


def _best_per_row(scores, valid):
  """Row i of ``scores[k, C]`` takes its lowest-scoring valid candidate that no earlier row
  took: ``(negated scores, indices)`` as ``top_k`` returns them."""

  def take(taken, row):
    row = jnp.where(valid & ~taken, row, jnp.inf)
    best = jnp.argmin(row)
    return taken.at[best].set(True), (-row[best], best)

  _, picked = jax.lax.scan(take, jnp.zeros_like(valid), scores)
  return picked


def select(key, space, cands, valid, scores, k, seen_keys):
  """The ``k`` valid candidates with the lowest scores; if fewer than ``k`` are valid, new
  random architectures (not in ``seen_keys``) make up the rest. ``scores`` is ``[C]``, one
  score per candidate, or ``[k, C]``, one draw per proposal (each proposal then takes the
  best candidate of its own draw that an earlier one did not take).

  Returns ``(archs, chosen)``: ``chosen[i]`` is the candidate index of row i, -1 if random.
  """
  if scores.ndim == 2:
    neg_best, chosen = _best_per_row(scores, valid)
  else:
    neg_best, chosen = jax.lax.top_k(-jnp.where(valid, scores, jnp.inf), k)
  ok = jnp.isfinite(neg_best)  # a prefix: the finite scores come first either way
  archs = take_valid_or_fill(key, space, spaces.take(cands, chosen), ok, k, seen_keys)
  return archs, jnp.where(ok, chosen, -1)


def mutation_candidates(key, space, history, num_parents=5, num_mutations=100,
                        mutation_rate=1.0):
  """The original mutation optimiser: parents best first, 100 mutations each, keeping new
  ones; the next parent is used only while fewer than ``num_mutations`` were kept.

  Returns ``(archs[num_parents * num_mutations], valid)``.
  """
  parents = spaces.take(history.archs, history.best(num_parents))
  parent_ok = jnp.arange(num_parents) < history.count
  repeated = jax.tree.map(lambda a: jnp.repeat(a, num_mutations, axis=0), parents)
  children = space.mutate(key, repeated, mutation_rate)
  from_real_parent = jnp.repeat(parent_ok, num_mutations)
  fresh = novel(space.canonical_key(children), from_real_parent, history.keys)
  kept = fresh.reshape(num_parents, num_mutations).sum(axis=1)
  kept_before = jnp.cumsum(kept) - kept
  parent_used = kept_before < num_mutations
  return children, fresh & jnp.repeat(parent_used, num_mutations)


def random_candidates(key, space, history, num_random=200):
  """``num_random`` distinct new random architectures, all valid."""
  return sample_new(key, space, num_random, history.keys), jnp.ones(num_random, bool)


def mutation_random_candidates(key, space, history, num_parents=5, num_mutations=100,
                               mutation_rate=1.0, num_random=200):
  """The mutation candidates plus new random ones up to ``num_random`` in all."""
  mut_key, rand_key = jax.random.split(key)
  mut, mut_ok = mutation_candidates(mut_key, space, history, num_parents, num_mutations,
                                    mutation_rate)
  seen = jnp.concatenate([history.keys, jnp.where(mut_ok, space.canonical_key(mut), -1)])
  rand = sample_new(rand_key, space, num_random, seen)
  rand_ok = jnp.arange(num_random) < num_random - mut_ok.sum()
  return spaces.concat(mut, rand), jnp.concatenate([mut_ok, rand_ok])


def local_search_candidates(key, space, history, score_fn, num_parents=5, num_climb_steps=10):
  """Hill climbing on the model's surface: from each of the ``num_parents`` best queried
  architectures, move to the best-scoring valid single-edit neighbour while that improves
  on the current one, at most ``num_climb_steps`` moves; every neighbour looked at is a
  candidate.

  ``score_fn(archs) -> float32[B]`` (lower is better) is the surface climbed, e.g. the
  ensemble's mean prediction. Returns ``(archs[num_climb_steps * num_parents * N], valid)``:
  the valid ones are new and distinct, ready for the acquisition function to rank.
  """
  del key  # the climb is deterministic given the model
  starts = spaces.take(history.archs, history.best(num_parents))
  rows = jnp.arange(num_parents)

  def move(carry, _):
    current, current_score, climbing = carry
    nbrs = jax.vmap(space.neighbours)(current)  # [P, N, ...]
    flat = jax.tree.map(lambda a: a.reshape((-1,) + a.shape[2:]), nbrs)
    ok = space.is_valid(flat).reshape(num_parents, -1) & climbing[:, None]
    scores = jnp.where(ok, score_fn(flat).reshape(num_parents, -1), jnp.inf)
    best = jnp.argmin(scores, axis=1)
    better = climbing & (scores[rows, best] < current_score)
    current = jax.tree.map(
        lambda c, n: jnp.where(better.reshape((-1,) + (1,) * (c.ndim - 1)), n[rows, best], c),
        current, nbrs)
    return (current, jnp.where(better, scores[rows, best], current_score), better), (
        flat, ok.reshape(-1))

  climbing = jnp.arange(num_parents) < history.count
  _, (seen, ok) = jax.lax.scan(move, (starts, score_fn(starts), climbing), None,
                               length=num_climb_steps)
  seen = jax.tree.map(lambda a: a.reshape((-1,) + a.shape[2:]), seen)
  return seen, novel(space.canonical_key(seen), ok.reshape(-1), history.keys)


ACQ_OPTS = ('mutation', 'random', 'mutation_random', 'local_search')


def candidates(acq_opt, key, space, history, num_parents, num_mutations, mutation_rate,
               num_random, score_fn=None, num_climb_steps=10):
  """Dispatches to the generator named ``acq_opt`` (``score_fn`` and ``num_climb_steps``: the
  surface and length of ``local_search``)."""
  make = {
      'mutation': functools.partial(mutation_candidates, num_parents=num_parents,
                                    num_mutations=num_mutations, mutation_rate=mutation_rate),
      'random': functools.partial(random_candidates, num_random=num_random),
      'mutation_random': functools.partial(
          mutation_random_candidates, num_parents=num_parents, num_mutations=num_mutations,
          mutation_rate=mutation_rate, num_random=num_random),
      'local_search': functools.partial(local_search_candidates, score_fn=score_fn,
                                        num_parents=num_parents, num_climb_steps=num_climb_steps),
  }[acq_opt]
  return make(key, space, history)
