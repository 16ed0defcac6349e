"""The paper's predictor study: how well the ensemble predicts unseen architectures.

For each encoding and each training-set size n, over several seeds: train the ensemble on
n distinct random architectures, predict ``num_test`` other ones, and measure the mean
absolute error (points of validation error), Kendall tau, Spearman rho and the fraction
predicted within one point. All sizes share one fixed-capacity buffer with a mask, so each
encoding compiles once and the seeds train together through vmap.

The pieces are public for experiments of your own (the notebook uses them):
:func:`random_split`, :func:`fit_predict` (also vmapped over learning rates: a grid of
settings in one program) and :func:`prediction_metrics`.
"""

import functools
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging
from matplotlib.figure import Figure
from scipy import stats

from bananas_jax import benchmarks, spaces
from bananas_jax.history import sample_new
from bananas_jax.io import records
from bananas_jax.predictors import MetaNetEnsemble
from bananas_jax.provenance import provenance


def random_split(key, space, num_train, num_test):
  """``(train, test)``: ``num_train + num_test`` distinct random architectures."""
  archs = sample_new(key, space, num_train + num_test, jnp.full(1, -1, jnp.int32))
  return spaces.take(archs, jnp.arange(num_train)), spaces.take(
      archs, jnp.arange(num_train, num_train + num_test))


@functools.partial(jax.jit, static_argnames='ensemble')
def fit_predict(ensemble, key, x_train, y_train, mask, x_test, learning_rate=None):
  """Every member's prediction ``[num_ensemble, T]`` on ``x_test`` after fitting the
  ensemble from scratch on the masked training points. ``learning_rate`` (an array) may
  replace the ensemble's, so that ``jax.vmap`` over it fits a whole grid at once."""
  params = ensemble.fit(key, x_train, y_train, mask, learning_rate)
  return ensemble.predict_members(params, x_test)


def prediction_metrics(pred, truth):
  """Mean absolute error (points), Kendall tau, Spearman rho, and the fraction of
  predictions within 1 point of the truth."""
  pred, truth = np.asarray(pred, np.float64), np.asarray(truth, np.float64)
  return {'mae': float(np.mean(np.abs(pred - truth))),
          'kendall_tau': float(stats.kendalltau(pred, truth).statistic),
          'spearman_rho': float(stats.spearmanr(pred, truth).statistic),
          'within_1': float(np.mean(np.abs(pred - truth) <= 1.0))}


def run_predictor_study(config):
  """Runs the study of ``config``; writes ``predictor.json``, ``predictor_mae.png`` (MAE vs
  training-set size) and ``predictor.png`` (predicted vs true at ``scatter_size``)."""
  sizes = [int(n) for n in str(config.train_sizes).split(',')]
  encodings = [e.strip() for e in config.encodings.split(',')]
  if min(sizes) < 1 or config.seeds < 1 or config.num_test < 2:
    raise ValueError(f'train_sizes ({config.train_sizes}), seeds ({config.seeds}) and '
                     f'num_test ({config.num_test}) must be positive (num_test at least 2)')
  space = spaces.make(config.search_space)
  for encoding in encodings:
    space.encoding_dim(encoding, config.cutoff)
  benchmark = benchmarks.load(config.search_space, config.dataset, config.fidelity)
  ensemble = MetaNetEnsemble(**config.predictor.to_dict())
  workdir = pathlib.Path(config.workdir)
  try:
    workdir.mkdir(parents=True, exist_ok=True)
  except OSError as e:
    raise ValueError(f'workdir {workdir} cannot be written: {e}') from e

  max_n = max(sizes)
  keys = jax.random.split(jax.random.PRNGKey(config.seed), config.seeds)
  train, test = jax.vmap(lambda k: random_split(k, space, max_n, config.num_test))(keys)
  query = jax.vmap(lambda a: benchmark.query(jax.random.PRNGKey(0), a).val_error)
  y_train, y_test = query(train), query(test)

  rows, scatter = [], {}
  for encoding in encodings:
    encode = jax.vmap(lambda a: space.encode(a, encoding, config.cutoff))
    x_train, x_test = encode(train), encode(test)

    over_seeds = jax.vmap(functools.partial(fit_predict, ensemble))
    for n in sizes:
      tick = time.time()
      mask = jnp.broadcast_to(jnp.arange(max_n) < n, (config.seeds, max_n))
      fit_keys = jax.vmap(lambda k: jax.random.fold_in(k, n))(keys)
      pred = np.asarray(over_seeds(fit_keys, x_train, y_train, mask, x_test).mean(axis=1))
      truth = np.asarray(y_test)
      per_seed = [prediction_metrics(p, t) for p, t in zip(pred, truth)]
      mean = {name: float(np.mean([m[name] for m in per_seed])) for name in per_seed[0]}
      mae = np.array([m['mae'] for m in per_seed])
      rows.append({'encoding': encoding, 'train_size': n, **mean,
                   'mae_stderr': float(mae.std(ddof=1) / np.sqrt(len(mae))) if len(mae) > 1 else 0.0,
                   'seconds': round(time.time() - tick, 3)})
      logging.info('%s n=%d: MAE %.3f tau %.3f', encoding, n, mean['mae'], mean['kendall_tau'])
      if n == config.scatter_size:
        scatter[encoding] = (truth[0], pred[0], None)

  report = {'config': config.to_dict(), 'provenance': provenance(), 'results': rows}
  records.write_json(workdir / 'predictor.json', report)
  plot_mae(report).savefig(workdir / 'predictor_mae.png', dpi=120)
  if scatter:
    title = (f'{config.search_space} {config.dataset}: ensemble of '
             f'{config.predictor.num_ensemble}, n = {config.scatter_size}')
    plot_predictions(scatter, title).savefig(workdir / 'predictor.png', dpi=120)
  return report


def plot_predictions(panels, title=''):
  """Predicted vs true validation error, a panel per ``{name: (truth, mean, spread)}``
  (``spread``, e.g. the ensemble's standard deviation, drawn as error bars; None: none)."""
  fig = Figure(figsize=(4.2 * len(panels), 4.2))
  axes = fig.subplots(1, len(panels), squeeze=False)
  for ax, (name, (truth, mean, spread)) in zip(axes[0], panels.items()):
    truth, mean = np.asarray(truth), np.asarray(mean)
    lo = 0.9 * float(max(min(truth.min(), mean.min()), 0.1))
    hi = 1.1 * float(max(truth.max(), mean.max()))
    yerr = None if spread is None else np.asarray(spread)
    ax.errorbar(truth, mean, yerr=yerr, fmt='o', ms=2, alpha=0.5, elinewidth=0.5)
    ax.plot([lo, hi], [lo, hi], 'k--', lw=1)
    ax.set(xscale='log', yscale='log', xlim=(lo, hi), ylim=(lo, hi), title=name,
           xlabel='true validation error (%)', ylabel='predicted validation error (%)')
  fig.suptitle(title)
  fig.tight_layout()
  return fig


def plot_mae(report):
  """The paper's predictor figure: MAE (mean and standard error over seeds) against the
  training-set size, a line per encoding."""
  fig = Figure(figsize=(5, 4))
  ax = fig.subplots()
  for encoding in dict.fromkeys(r['encoding'] for r in report['results']):
    rows = [r for r in report['results'] if r['encoding'] == encoding]
    ax.errorbar([r['train_size'] for r in rows], [r['mae'] for r in rows],
                yerr=[r['mae_stderr'] for r in rows], marker='o', capsize=3, label=encoding)
  config = report['config']
  ax.set(xscale='log', xlabel='training set size', ylabel='MAE (points of validation error)',
         title=f'{config["search_space"]} {config["dataset"]}: {config["num_test"]} held-out cells')
  ax.grid(alpha=0.3)
  ax.legend()
  fig.tight_layout()
  return fig


def format_report(report):
  """The study as a text table: one line per (encoding, training-set size)."""
  lines = [f'{"encoding":<12}{"n":>6}{"MAE":>16}{"Kendall tau":>13}{"Spearman":>10}'
           f'{"within 1":>10}']
  for r in report['results']:
    lines.append(f'{r["encoding"]:<12}{r["train_size"]:>6}{r["mae"]:>9.3f} +- {r["mae_stderr"]:<4.2f}'
                 f'{r["kendall_tau"]:>13.3f}{r["spearman_rho"]:>10.3f}{r["within_1"]:>10.2f}')
  return '\n'.join(lines) + ('\n(MAE in points of validation error, mean over seeds; within 1: '
                             'the fraction predicted within one point)')
