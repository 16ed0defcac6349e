"""The paper's predictor study: how well models predict unseen architectures.

For each model (and, for the meta network ensemble, each encoding) and each training-set
size n, over several seeds: fit the model on n distinct random architectures, predict
``num_test`` other ones, and measure the mean absolute error (points of validation error),
Kendall tau, Spearman rho, the fraction predicted within one point and the time to fit and
predict. All sizes share one fixed-capacity buffer with a mask, so each model compiles once
and the seeds fit together through vmap.

Models (``config.models``): ``ensemble`` (BANANAS' meta networks, on each of
``config.encodings``), ``gp`` (GP-BO's GP on path distances), ``dngo`` and ``bohamiann``
(adjacency encoding, as in their searches), ``gcn`` (the neural predictor's GCN on the cell
graph); and, with the optional ``trees`` extra (``pip install bananas-jax[trees]``), the
host-side ``random_forest`` (scikit-learn) and ``xgboost`` at their libraries' defaults.

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

from bananas_jax import benchmarks, search, spaces
from bananas_jax.history import sample_new
from bananas_jax.io import records
from bananas_jax.predictors import BOHAMIANN, DNGO, GCN, MetaNetEnsemble, gp
from bananas_jax.provenance import provenance

# The encoding each model other than the ensemble reads, and its settings' class.
MODELS = {'ensemble': (None, MetaNetEnsemble), 'gp': ('path', gp.GaussianProcess),
          'dngo': ('adjacency', DNGO), 'bohamiann': ('adjacency', BOHAMIANN),
          'gcn': ('graph', GCN), 'random_forest': ('adjacency', None),
          'xgboost': ('adjacency', None)}


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


@functools.partial(jax.jit, static_argnames='model')
def fit_predict_mean(model, key, x_train, y_train, mask, x_test):
  """A JAX predictor's mean prediction on ``x_test`` after fitting it on the masked points."""
  return model.predict(model.fit(key, x_train, y_train, mask), x_test)[0]


def _tree_model(name):
  """A fresh host-side regressor at its library's defaults; a clear error without the extra."""
  try:
    if name == 'random_forest':
      from sklearn.ensemble import RandomForestRegressor
      return RandomForestRegressor(random_state=0)
    import xgboost
    return xgboost.XGBRegressor(random_state=0)
  except ImportError as e:
    raise ValueError(f'model {name!r} needs the optional trees extra (pip install '
                     f'"bananas-jax[trees]"): {e}') from None


def _predict_over_seeds(name, model, keys, x_train, y_train, mask, x_test):
  """``[seeds, num_test]`` mean predictions of one model at one training-set size."""
  if name in ('random_forest', 'xgboost'):
    n = int(np.asarray(mask[0]).sum())
    return np.stack([_tree_model(name).fit(np.asarray(xt[:n]), np.asarray(yt[:n]))
                     .predict(np.asarray(xs)) for xt, yt, xs in zip(x_train, y_train, x_test)])
  if name == 'ensemble':
    return jax.vmap(functools.partial(fit_predict, model))(
        keys, x_train, y_train, mask, x_test).mean(axis=1)
  return jax.vmap(functools.partial(fit_predict_mean, model))(keys, x_train, y_train, mask,
                                                              x_test)


def _models(config, space):
  """``[(model name, encoding, model)]`` in the config's order; bad names refused."""
  names = [m.strip() for m in config.models.split(',') if m.strip()]
  unknown = [m for m in names if m not in MODELS]
  if unknown or not names:
    raise ValueError(f'unknown model {unknown[0] if unknown else config.models!r}; '
                     f'accepted: {", ".join(MODELS)}')
  chosen = []
  for name in names:
    encoding, cls = MODELS[name]
    model = None if cls is None else cls(**search.build_settings(
        cls, config[name].to_dict(), name))
    if name == 'ensemble':
      chosen += [(name, e.strip(), model) for e in config.encodings.split(',')]
    else:
      chosen.append((name, encoding, model))
  for name, encoding, _ in chosen:
    space.encoding_dim(encoding, config.cutoff)
    if name in ('random_forest', 'xgboost'):
      _tree_model(name)
  return chosen


def run_predictor_study(config):
  """Runs the study of ``config``; writes ``predictor.json``, ``predictor_mae.png`` (MAE vs
  training-set size) and ``predictor.png`` (predicted vs true at ``scatter_size``)."""
  sizes = [int(n) for n in str(config.train_sizes).split(',')]
  if min(sizes) < 1 or config.seeds < 1 or config.num_test < 2:
    raise ValueError(f'train_sizes ({config.train_sizes}), seeds ({config.seeds}) and '
                     f'num_test ({config.num_test}) must be positive (num_test at least 2)')
  space = spaces.make(config.search_space)
  models = _models(config, space)
  benchmark = benchmarks.load(config.search_space, config.dataset, config.fidelity)
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
  for name, encoding, model in models:
    encode = jax.vmap(lambda a: space.encode(a, encoding, config.cutoff))
    x_train, x_test = encode(train), encode(test)
    for n in sizes:
      tick = time.time()
      mask = jnp.broadcast_to(jnp.arange(max_n) < n, (config.seeds, max_n))
      fit_keys = jax.vmap(lambda k: jax.random.fold_in(k, n))(keys)
      pred = np.asarray(_predict_over_seeds(name, model, fit_keys, x_train, y_train, mask,
                                            x_test))
      truth = np.asarray(y_test)
      per_seed = [prediction_metrics(p, t) for p, t in zip(pred, truth)]
      mean = {metric: float(np.mean([m[metric] for m in per_seed])) for metric in per_seed[0]}
      mae = np.array([m['mae'] for m in per_seed])
      rows.append({'model': name, 'encoding': encoding, 'train_size': n, **mean,
                   'mae_stderr': float(mae.std(ddof=1) / np.sqrt(len(mae))) if len(mae) > 1 else 0.0,
                   'seconds': round(time.time() - tick, 3)})
      logging.info('%s %s n=%d: MAE %.3f tau %.3f', name, encoding, n, mean['mae'],
                   mean['kendall_tau'])
      if n == config.scatter_size:
        scatter[_label(rows[-1])] = (truth[0], pred[0], None)

  report = {'config': config.to_dict(), 'provenance': provenance(), 'results': rows}
  records.write_json(workdir / 'predictor.json', report)
  plot_mae(report).savefig(workdir / 'predictor_mae.png', dpi=120)
  if scatter:
    title = f'{config.search_space} {config.dataset}: n = {config.scatter_size}'
    plot_predictions(scatter, title).savefig(workdir / 'predictor.png', dpi=120)
  return report


def _label(row):
  return f'{row["model"]} ({row["encoding"]})'


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
  training-set size, a line per model and encoding."""
  fig = Figure(figsize=(5, 4))
  ax = fig.subplots()
  for label in dict.fromkeys(_label(r) for r in report['results']):
    rows = [r for r in report['results'] if _label(r) == label]
    ax.errorbar([r['train_size'] for r in rows], [r['mae'] for r in rows],
                yerr=[r['mae_stderr'] for r in rows], marker='o', capsize=3, label=label)
  config = report['config']
  ax.set(xscale='log', xlabel='training set size', ylabel='MAE (points of validation error)',
         title=f'{config["search_space"]} {config["dataset"]}: {config["num_test"]} held-out cells')
  ax.grid(alpha=0.3)
  ax.legend()
  fig.tight_layout()
  return fig


def format_report(report):
  """The study as a text table: one line per (model, encoding, training-set size)."""
  lines = [f'{"model (encoding)":<26}{"n":>6}{"MAE":>16}{"Kendall tau":>13}{"Spearman":>10}'
           f'{"within 1":>10}{"seconds":>9}']
  for r in report['results']:
    lines.append(f'{_label(r):<26}{r["train_size"]:>6}{r["mae"]:>9.3f} +- {r["mae_stderr"]:<4.2f}'
                 f'{r["kendall_tau"]:>13.3f}{r["spearman_rho"]:>10.3f}{r["within_1"]:>10.2f}'
                 f'{r["seconds"]:>9.1f}')
  return '\n'.join(lines) + ('\n(MAE in points of validation error, mean over seeds; within 1: '
                             'the fraction predicted within one point; seconds: fitting and '
                             'predicting every seed, compilation included at the first n)')
