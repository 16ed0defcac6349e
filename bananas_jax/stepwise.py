"""A search whose every query is expensive (a real training), run one step at a time.

``ask`` the algorithm for k architectures, evaluate each with ``query_fn``, ``tell`` it
their validation errors, and so on. Everything needed to continue is on disk as it
happens, so a killed search resumes without losing or repeating an evaluation:

  <workdir>/config.json       the search's settings (they may not change between runs)
  <workdir>/proposals.jsonl   one line per ask: the step and its architectures (as text)
  <workdir>/trainings/<step>_<j>/   the workdir that ``query_fn`` gets for proposal j
  <workdir>/results.jsonl     one line per finished evaluation: step, index, arch, val error

On restart the algorithm's state is rebuilt exactly by replaying ``init`` and the ``tell``
of every finished step (it is deterministic given its key and what it was told); an
unfinished step's proposals are read back, not asked again. ``launch.search`` wires this to
DARTS training (``bananas_jax.darts.train.proxy_query_fn``); any ``query_fn(arch_text,
workdir) -> validation error (%)`` works, e.g. a training of your own search space.
"""

import pathlib

import jax
import numpy as np
from absl import logging

from bananas_jax import search, spaces
from bananas_jax.io import records

# Settings that do not change what is asked or told: they may differ between runs.
_RESUMABLE_FIELDS = ('data_dir', 'workdir')


def workdir_of(config):
  return pathlib.Path(config.workdir or f'runs/{config.search_space}_search')


def run_stepwise(config, query_fn):
  """Runs (or resumes) the search of ``config``; returns its result records in step order.

  ``config`` has ``search_space``, ``algorithm``, ``total_queries``, ``seed``, ``workdir``
  and the algorithm's section (``config.bananas``); ``query_fn(arch_text, workdir)``
  evaluates one architecture, using ``workdir`` for its checkpoints.
  """
  space = spaces.make(config.search_space)
  section = config.get(config.algorithm)
  algorithm = search.make(config.algorithm, space, config.total_queries,
                          section.to_dict() if section is not None else None)
  workdir = workdir_of(config)
  records.prepare_workdir(workdir, config.to_dict(), ignored=_RESUMABLE_FIELDS)
  proposals = {p['step']: p['archs'] for p in records.read_jsonl(workdir / 'proposals.jsonl')}
  finished = {(r['step'], r['index']): r for r in records.read_jsonl(workdir / 'results.jsonl')}
  init_key, step_root = jax.random.split(jax.random.key(config.seed))
  ask = jax.jit(algorithm.ask, static_argnums=2)
  tell = jax.jit(algorithm.tell)
  state = algorithm.init(init_key)
  for step in range(search.num_steps(algorithm)):
    if step in proposals:
      archs = np.stack([space.from_string(text) for text in proposals[step]])
    else:
      archs = np.asarray(ask(jax.random.fold_in(step_root, step), state, step == 0))
      proposals[step] = [space.to_string(a) for a in archs]
      records.append_jsonl(workdir / 'proposals.jsonl', [{'step': step, 'archs': proposals[step]}])
    errors = []
    for j, text in enumerate(proposals[step]):
      if (step, j) not in finished:
        error = float(query_fn(text, workdir / 'trainings' / f'{step}_{j}'))
        finished[(step, j)] = {'step': step, 'index': j, 'arch': text, 'val_error': error}
        records.append_jsonl(workdir / 'results.jsonl', [finished[(step, j)]])
        logging.info('step %d architecture %d: validation error %.3f', step, j, error)
      errors.append(finished[(step, j)]['val_error'])
    state = tell(state, archs, np.asarray(errors, np.float32))
  return [finished[k] for k in sorted(finished)]
