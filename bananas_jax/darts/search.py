"""A search on the DARTS space where every query is a real training.

One step at a time: ``ask`` the algorithm for k architectures, train each with the proxy
recipe, ``tell`` it their validation errors. Everything needed to continue is on disk as
it happens, so a killed search resumes without losing or repeating a training:

  <workdir>/proposals.jsonl   one line per ask: the step and its architectures (genotypes)
  <workdir>/trainings/<step>_<j>/   the training of proposal j of that step (checkpoints
                                    every epoch; ``final.json`` when done)
  <workdir>/results.jsonl     one line per finished training: step, genotype, val error

On restart the search state is rebuilt exactly by replaying ``init`` and the ``tell`` of
every finished step (the algorithm is deterministic given its key and what it was told);
an unfinished step's proposals are read back, not asked again, and their trainings resume
from their checkpoints. A training may also run elsewhere (another GPU or host sharing the
disk) with ``launch.train_darts`` into its ``trainings/<step>_<j>`` workdir: the search
uses its ``final.json`` when it finds one.
"""

import json
import pathlib

import jax
import numpy as np

from bananas_jax import results, search
from bananas_jax.darts import data
from bananas_jax.darts import train as train_lib
from bananas_jax.spaces import darts as space_lib


def proxy_trainer(train_config, data_dir, log=print):
  """The real ``train_fn``: trains (or resumes) one architecture with the proxy recipe and
  returns the mean validation error of its last 5 epochs. CIFAR-10 is read on first use."""
  loaded = {}

  def train_fn(genotype, workdir):
    final_path = pathlib.Path(workdir) / 'final.json'
    if final_path.exists():  # trained before this restart, or by another worker
      return json.loads(final_path.read_text())['valid_error_last5']
    if 'cifar10' not in loaded:
      loaded['cifar10'] = data.load_cifar10(data_dir)
    config = train_config.copy_and_resolve_references()
    config.genotype, config.workdir = genotype, str(workdir)
    return train_lib.train(config, loaded['cifar10'], log=log)['valid_error_last5']

  return train_fn


def _read_jsonl(path):
  """The lines of a JSON-lines log; a last line cut by a kill is dropped from the file (its
  step is asked again, deterministically, or its training's final.json is read again)."""
  path = pathlib.Path(path)
  if not path.exists():
    return []
  lines = path.read_text().splitlines()
  try:
    return [json.loads(line) for line in lines]
  except json.JSONDecodeError:
    kept = [json.loads(line) for line in lines[:-1]]
    path.write_text(''.join(json.dumps(r) + '\n' for r in kept))
    return kept


def _check_config(workdir, config):
  """A search's settings may not change between its runs (the replay would diverge)."""
  path = workdir / 'config.json'
  current = {k: v for k, v in config.to_dict().items() if k not in ('data_dir', 'workdir')}
  if path.exists():
    old = {k: v for k, v in json.loads(path.read_text()).items()
           if k not in ('data_dir', 'workdir')}
    if old != current:
      changed = sorted(k for k in set(old) | set(current) if old.get(k) != current.get(k))
      raise ValueError(f'workdir {workdir} holds a search with other settings (fields '
                       f'{", ".join(changed)}); choose another --config.workdir')
  results.write_json_atomic(path, config.to_dict())


def run(config, train_fn=None, log=print):
  """Runs (or resumes) the search of ``config``; returns its results records.

  ``train_fn(genotype, workdir) -> validation error`` replaces the proxy training (tests).
  """
  space = space_lib.DartsSpace()
  settings = config.get(config.algorithm).to_dict()
  algorithm = search.make(config.algorithm, space, config.total_queries, settings)
  workdir = pathlib.Path(config.workdir or 'runs/darts_search')
  workdir.mkdir(parents=True, exist_ok=True)
  _check_config(workdir, config)
  train_fn = train_fn or proxy_trainer(config.train, config.data_dir, log)
  proposals = {p['step']: p['genotypes'] for p in _read_jsonl(workdir / 'proposals.jsonl')}
  finished = {(r['step'], r['index']): r for r in _read_jsonl(workdir / 'results.jsonl')}
  init_key, step_root = jax.random.split(jax.random.key(config.seed))
  ask = jax.jit(algorithm.ask, static_argnums=2)
  tell = jax.jit(algorithm.tell)
  state = algorithm.init(init_key)
  for step in range(search.num_steps(algorithm)):
    if step in proposals:
      archs = np.stack([space.from_string(g) for g in proposals[step]])
    else:
      archs = np.asarray(ask(jax.random.fold_in(step_root, step), state, step == 0))
      proposals[step] = [space.to_string(a) for a in archs]
      results.append_records(workdir / 'proposals.jsonl',
                             [{'step': step, 'genotypes': proposals[step]}])
    errors = []
    for j, genotype in enumerate(proposals[step]):
      if (step, j) not in finished:
        error = float(train_fn(genotype, workdir / 'trainings' / f'{step}_{j}'))
        finished[(step, j)] = {'step': step, 'index': j, 'genotype': genotype,
                               'val_error': error}
        results.append_records(workdir / 'results.jsonl', [finished[(step, j)]])
        log(f'step {step} architecture {j}: validation error {error:.3f}')
      errors.append(finished[(step, j)]['val_error'])
    state = tell(state, archs, np.asarray(errors, np.float32))
  return [finished[k] for k in sorted(finished)]
