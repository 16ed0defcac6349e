"""BANANAS through Optuna on a real task: the architecture of a small Flax CNN on scikit-learn's
handwritten digits (1,797 real 8x8 images shipped inside the scikit-learn wheel: no download).

  python -m experiments.digits --out=experiments/results/digits

For each sampler (BANANAS via :class:`bananas_jax.integrations.optuna_sampler.BananasSampler`, Optuna's
TPESampler and RandomSampler) and seed, two worker processes share one study in an SQLite
file and train architectures until ``--trials`` completed; every training is deterministic
(fixed initialisation and batch order), so samplers differ only in what they ask. Writes
``summary.json`` (best validation accuracy after each trial count, the chosen
architecture's test accuracy, runtime, provenance) and ``digits.png``.
"""

import functools
import json
import multiprocessing
import pathlib
import time

import numpy as np
from absl import app, flags

_SAMPLERS = flags.DEFINE_list('samplers', ['bananas', 'tpe', 'random'],
                              'Samplers to compare: bananas, tpe, random.')
_SEEDS = flags.DEFINE_list('seeds', ['0', '1', '2', '3', '4'], 'One study per sampler and seed.')
_TRIALS = flags.DEFINE_integer('trials', 30, 'Completed trials per study.')
_WORKERS = flags.DEFINE_integer('workers', 2, 'Worker processes per study.')
_OUT = flags.DEFINE_string('out', 'runs/digits', 'Where the studies, summary and figure go.')

# A two-block CNN: each block a conv (kernel, width) and a 2x2 pooling, then an optional
# hidden dense layer: 2 * 3 * 2 * 3 * 2 * 3 = 216 architectures.
SPACE = {'conv1_kernel': [3, 5], 'conv1_width': [4, 8, 16],
         'conv2_kernel': [3, 5], 'conv2_width': [8, 16, 32],
         'pool': ['max', 'avg'], 'dense': [0, 32, 64]}
SAMPLERS = ('bananas', 'tpe', 'random')
EPOCHS, BATCH, LEARNING_RATE = 25, 100, 3e-3


def split():
  """Train 1,000 / validation 397 / test 400 images, one fixed shuffle."""
  from sklearn.datasets import load_digits
  images, labels = load_digits(return_X_y=True)
  images = (images / 16.0).reshape(-1, 8, 8, 1).astype(np.float32)
  order = np.random.RandomState(0).permutation(len(labels))
  parts = np.split(order, [1000, 1397])
  return [(images[p], labels[p].astype(np.int32)) for p in parts]


@functools.lru_cache(maxsize=None)
def _train_fn(arch):
  """The jit-compiled training and evaluation of one architecture (a sorted items tuple)."""
  import jax
  import jax.numpy as jnp
  import optax
  from flax import linen as nn

  a = dict(arch)

  class CNN(nn.Module):
    @nn.compact
    def __call__(self, x):
      pool = nn.max_pool if a['pool'] == 'max' else nn.avg_pool
      for block in (1, 2):
        k = a[f'conv{block}_kernel']
        x = nn.relu(nn.Conv(a[f'conv{block}_width'], (k, k), padding='SAME')(x))
        x = pool(x, (2, 2), (2, 2))
      x = x.reshape(x.shape[0], -1)
      if a['dense']:
        x = nn.relu(nn.Dense(a['dense'])(x))
      return nn.Dense(10)(x)

  model, optimizer = CNN(), optax.adam(LEARNING_RATE)

  def accuracy(params, x, y):
    return jnp.mean(jnp.argmax(model.apply(params, x), -1) == y)

  @jax.jit
  def train_and_evaluate(train_x, train_y, eval_sets):
    params = model.init(jax.random.key(0), train_x[:1])
    steps = train_x.shape[0] // BATCH

    def step(carry, indices):
      params, opt_state = carry
      loss = lambda p: optax.softmax_cross_entropy_with_integer_labels(
          model.apply(p, train_x[indices]), train_y[indices]).mean()
      updates, opt_state = optimizer.update(jax.grad(loss)(params), opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), None

    orders = jax.vmap(lambda k: jax.random.permutation(k, train_x.shape[0])[:steps * BATCH])(
        jax.random.split(jax.random.key(1), EPOCHS)).reshape(-1, BATCH)
    (params, _), _ = jax.lax.scan(step, (params, optimizer.init(params)), orders)
    return [accuracy(params, x, y) for x, y in eval_sets]

  return train_and_evaluate


def train(arch, data):
  """``(validation accuracy, test accuracy)`` of one architecture (a dict of SPACE)."""
  (train_x, train_y), val, test = data
  val_acc, test_acc = _train_fn(tuple(sorted(arch.items())))(train_x, train_y, [val, test])
  return float(val_acc), float(test_acc)


def make_sampler(name, seed, worker, trials, workers):
  import optuna
  from bananas_jax.integrations import optuna_sampler as sampler
  if name == 'bananas':  # every worker the same seed: its proposals depend on the trial
    return sampler.BananasSampler(SPACE, mode='async', seed=seed,
                                  total_queries=trials + workers)  # and the last in flight
  worker_seed = 1000 * seed + worker  # else workers with one seed would ask the same
  if name == 'tpe':
    return optuna.samplers.TPESampler(seed=worker_seed)
  if name == 'random':
    return optuna.samplers.RandomSampler(seed=worker_seed)
  raise ValueError(f'unknown sampler {name!r}; accepted: {", ".join(SAMPLERS)}')


def worker(url, study_name, sampler_name, seed, index, trials, workers):
  """One worker process: joins the study and trains until ``trials`` completed."""
  import optuna
  from bananas_jax.integrations import optuna_sampler as sampler
  optuna.logging.set_verbosity(optuna.logging.WARNING)
  data = split()

  def objective(trial):
    arch = {name: trial.suggest_categorical(name, options) for name, options in SPACE.items()}
    val_acc, test_acc = train(arch, data)
    trial.set_user_attr('test_accuracy', test_acc)  # recorded, never searched on
    return val_acc

  study = optuna.load_study(study_name=study_name, storage=sampler.open_storage(url),
                            sampler=make_sampler(sampler_name, seed, index, trials, workers))
  study.optimize(objective, callbacks=[optuna.study.MaxTrialsCallback(
      trials, states=(optuna.trial.TrialState.COMPLETE,))])


def run_study(url, sampler_name, seed, trials, workers):
  """One study with ``workers`` processes; its record for the summary."""
  import optuna
  from bananas_jax.integrations import optuna_sampler as sampler
  name = f'{sampler_name}_seed{seed}'
  study = optuna.create_study(study_name=name, storage=sampler.open_storage(url),
                              direction='maximize', load_if_exists=True)
  tick = time.time()
  context = multiprocessing.get_context('spawn')  # a fresh JAX in each worker
  procs = [context.Process(target=worker, args=(url, name, sampler_name, seed, i, trials, workers))
           for i in range(workers)]
  for p in procs:
    p.start()
  for p in procs:
    p.join()
    if p.exitcode:
      raise RuntimeError(f'a worker of study {name} exited with {p.exitcode}')
  done = sorted(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)),
                key=lambda t: t.datetime_complete)[:trials]
  best = np.maximum.accumulate([t.value for t in done])
  chosen = max(done, key=lambda t: t.value)
  return {'sampler': sampler_name, 'seed': seed, 'seconds': time.time() - tick,
          'best_val_accuracy': best.tolist(), 'chosen': chosen.params,
          'chosen_val_accuracy': chosen.value,
          'chosen_test_accuracy': chosen.user_attrs['test_accuracy'],
          'distinct_architectures': len({tuple(sorted(t.params.items())) for t in done})}


def plot(runs, path):
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  fig, ax = plt.subplots(figsize=(6, 4), layout='constrained')
  for name in dict.fromkeys(r['sampler'] for r in runs):
    curves = np.array([r['best_val_accuracy'] for r in runs if r['sampler'] == name]) * 100
    mean, std = curves.mean(0), curves.std(0)
    x = np.arange(1, curves.shape[1] + 1)
    ax.plot(x, mean, label=f'{name} ({len(curves)} seeds)')
    ax.fill_between(x, mean - std, mean + std, alpha=0.2)
  ax.set(xlabel='completed trials', ylabel='best validation accuracy (%)',
         title='A Flax CNN on the digits: 2 workers per study on SQLite')
  ax.legend()
  fig.savefig(path, dpi=120)


def main(argv):
  del argv
  from bananas_jax import provenance
  for name in _SAMPLERS.value:
    if name not in SAMPLERS:
      raise app.UsageError(f'unknown sampler {name!r}; accepted: {", ".join(SAMPLERS)}')
  out = pathlib.Path(_OUT.value)
  out.mkdir(parents=True, exist_ok=True)
  url = f'sqlite:///{(out / "studies.db").resolve()}'
  tick = time.time()
  runs = [run_study(url, name, int(seed), _TRIALS.value, _WORKERS.value)
          for seed in _SEEDS.value for name in _SAMPLERS.value]
  summary = {'command': 'python -m experiments.digits ' + ' '.join(
      f'--{f}={",".join(v) if isinstance(v, list) else v}' for f, v in (
          ('samplers', _SAMPLERS.value), ('seeds', _SEEDS.value), ('trials', _TRIALS.value),
          ('workers', _WORKERS.value), ('out', _OUT.value))),
             'seconds': time.time() - tick, 'space': SPACE,
             'training': {'epochs': EPOCHS, 'batch': BATCH, 'learning_rate': LEARNING_RATE,
                          'split': 'train 1000 / validation 397 / test 400'},
             'provenance': provenance.provenance(), 'runs': runs}
  (out / 'summary.json').write_text(json.dumps(summary, indent=1))
  plot(runs, out / 'digits.png')
  for name in _SAMPLERS.value:
    mine = [r for r in runs if r['sampler'] == name]
    best = np.mean([r['best_val_accuracy'][-1] for r in mine])
    print(f'{name}: best validation accuracy {best:.4f}, chosen test accuracy '
          f'{np.mean([r["chosen_test_accuracy"] for r in mine]):.4f}')
  print(f'{summary["seconds"]:.0f} s; {out}')


if __name__ == '__main__':
  app.run(main)
