"""The paper's predictor study: how well the ensemble predicts unseen architectures.

For each encoding and each training-set size n, over several seeds: train the ensemble on
n distinct random architectures, predict ``num_test`` other ones, and measure the mean
absolute error (points of validation error), Kendall tau and Spearman rho. All sizes
share one fixed-capacity buffer with a mask, so each encoding compiles once and the
seeds train together through vmap.
"""

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


def _split(key, space, max_train, num_test):
  archs = sample_new(key, space, max_train + num_test, jnp.full(1, -1, jnp.int32))
  return spaces.take(archs, jnp.arange(max_train)), spaces.take(
      archs, jnp.arange(max_train, max_train + num_test))


def run_predictor_study(config):
  """Runs the study of ``config``; writes ``predictor.json`` and ``predictor.png``."""
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
  train, test = jax.vmap(lambda k: _split(k, space, max_n, config.num_test))(keys)
  query = jax.vmap(lambda a: benchmark.query(jax.random.PRNGKey(0), a).val_error)
  y_train, y_test = query(train), query(test)

  rows, scatter = [], {}
  for encoding in encodings:
    encode = jax.vmap(lambda a: space.encode(a, encoding, config.cutoff))
    x_train, x_test = encode(train), encode(test)

    @jax.jit
    def fit_predict(keys, x_train, y_train, mask, x_test):
      params = jax.vmap(ensemble.fit)(keys, x_train, y_train, mask)
      return jax.vmap(ensemble.predict)(params, x_test)[0]

    for n in sizes:
      tick = time.time()
      mask = jnp.broadcast_to(jnp.arange(max_n) < n, (config.seeds, max_n))
      fit_keys = jax.vmap(lambda k: jax.random.fold_in(k, n))(keys)
      pred = np.asarray(fit_predict(fit_keys, x_train, y_train, mask, x_test))
      truth = np.asarray(y_test)
      per_seed = [(np.mean(np.abs(p - t)), stats.kendalltau(p, t).statistic,
                   stats.spearmanr(p, t).statistic) for p, t in zip(pred, truth)]
      mae, tau, rho = np.array(per_seed).T
      rows.append({'encoding': encoding, 'train_size': n, 'mae': float(mae.mean()),
                   'mae_stderr': float(mae.std(ddof=1) / np.sqrt(len(mae))) if len(mae) > 1 else 0.0,
                   'kendall_tau': float(tau.mean()), 'spearman_rho': float(rho.mean()),
                   'seconds': round(time.time() - tick, 3)})
      logging.info('%s n=%d: MAE %.3f tau %.3f', encoding, n, mae.mean(), tau.mean())
      if n == config.scatter_size:
        scatter[encoding] = (truth[0], pred[0])

  report = {'config': config.to_dict(), 'provenance': provenance(), 'results': rows}
  records.write_json(workdir / 'predictor.json', report)
  if scatter:
    _plot_scatter(scatter, config, workdir / 'predictor.png')
  return report


def _plot_scatter(scatter, config, path):
  fig = Figure(figsize=(4 * len(scatter), 4))
  axes = fig.subplots(1, len(scatter), squeeze=False)
  for ax, (encoding, (truth, pred)) in zip(axes[0], scatter.items()):
    lo = 0.9 * float(max(min(truth.min(), pred.min()), 0.1))
    hi = 1.1 * float(max(truth.max(), pred.max()))
    ax.scatter(truth, pred, s=4, alpha=0.5)
    ax.plot([lo, hi], [lo, hi], 'k--', lw=1)
    ax.set(xscale='log', yscale='log', xlim=(lo, hi), ylim=(lo, hi))
    ax.set_title(f'{encoding}, n = {config.scatter_size}')
    ax.set_xlabel('true validation error (%)')
    ax.set_ylabel('predicted validation error (%)')
  fig.suptitle(f'{config.search_space} {config.dataset}: ensemble of {config.predictor.num_ensemble}')
  fig.tight_layout()
  fig.savefig(path, dpi=120)


def format_report(report):
  """The study as a text table: one line per (encoding, training-set size)."""
  lines = [f'{"encoding":<12}{"n":>6}{"MAE":>16}{"Kendall tau":>13}{"Spearman":>10}']
  for r in report['results']:
    lines.append(f'{r["encoding"]:<12}{r["train_size"]:>6}{r["mae"]:>9.3f} +- {r["mae_stderr"]:<4.2f}'
                 f'{r["kendall_tau"]:>13.3f}{r["spearman_rho"]:>10.3f}')
  return '\n'.join(lines) + '\n(MAE in points of validation error, mean over seeds)'
