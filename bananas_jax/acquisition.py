"""Acquisition functions and acquisition optimisation (candidate generation) for BANANAS.

Scores are minimised: the ``k`` lowest-scoring candidates are queried. Every function
takes the ensemble's member predictions ``float32[M, C]`` so that Thompson sampling can
pick a member; the others use their mean and population standard deviation.

Candidate generators return fixed-size batches with a validity mask; valid candidates
are distinct by canonical key and were never queried in the trial.
"""

import functools

import jax
import jax.numpy as jnp
from jax.scipy.stats import norm

from bananas_jax import spaces
from bananas_jax.history import novel, sample_new


def _its(key, preds, y_min):
  """Independent Thompson sampling: one draw per candidate from Normal(mu, sigma)."""
  del y_min
  mu, sigma = preds.mean(0), preds.std(0)
  return mu + sigma * jax.random.normal(key, mu.shape)


def _ucb(key, preds, y_min):
  """Lower confidence bound mu - 0.5 sigma (the original calls it ucb)."""
  del key, y_min
  return preds.mean(0) - 0.5 * preds.std(0)


def _ei(key, preds, y_min):
  """Expected improvement, with the original's sigma / 5 scaling, negated."""
  del key
  mu = preds.mean(0)
  s = jnp.maximum(preds.std(0) / 5.0, 1e-12)
  g = (y_min - mu) / s
  return -s * (g * norm.cdf(g) + norm.pdf(g))


def _pi(key, preds, y_min):
  """Probability of improvement, negated."""
  del key
  return -norm.cdf((y_min - preds.mean(0)) / jnp.maximum(preds.std(0), 1e-12))


def _ts(key, preds, y_min):
  """Thompson sampling: the predictions of one member chosen at random."""
  del y_min
  return preds[jax.random.randint(key, (), 0, preds.shape[0])]


def _exploit(key, preds, y_min):
  """The mean prediction alone."""
  del key, y_min
  return preds.mean(0)


ACQ_FNS = {'its': _its, 'ucb': _ucb, 'ei': _ei, 'pi': _pi, 'ts': _ts, 'exploit': _exploit}


def score(acq_fn, key, preds, y_min):
  """``float32[C]`` scores of ``acq_fn`` for member predictions ``preds[M, C]``."""
  return ACQ_FNS[acq_fn](key, preds, y_min)


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


ACQ_OPTS = ('mutation', 'random', 'mutation_random')


def candidates(acq_opt, key, space, history, num_parents, num_mutations, mutation_rate,
               num_random):
  """Dispatches to the generator named ``acq_opt``."""
  make = {
      'mutation': functools.partial(mutation_candidates, num_parents=num_parents,
                                    num_mutations=num_mutations, mutation_rate=mutation_rate),
      'random': functools.partial(random_candidates, num_random=num_random),
      'mutation_random': functools.partial(
          mutation_random_candidates, num_parents=num_parents, num_mutations=num_mutations,
          mutation_rate=mutation_rate, num_random=num_random),
  }[acq_opt]
  return make(key, space, history)
