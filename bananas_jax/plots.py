"""Paper figures and tables from finished (or partly finished) search workdirs.

Every directory holding ``results*.jsonl`` under the inputs is a workdir (a sweep directory
holds many). Curves are grouped in one panel per (search space, dataset, noisy or not); a
curve is an algorithm or variant, labelled with its workdir's name when several workdirs of
the panel have the same algorithm (a sweep's points). Tables also say how many trials found
the best-validation architecture and the seconds each trial took. Workdirs whose records
carry the answer against simulated training time (``cost_trace``) also get a figure and
tables of test error against simulated GPU-hours.
"""

import dataclasses
import json
import pathlib

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from bananas_jax import results

_DATASET_NAMES = {'cifar10': 'CIFAR-10', 'cifar100': 'CIFAR-100',
                  'imagenet16_120': 'ImageNet16-120'}
_SPACE_NAMES = {'nasbench201': 'NAS-Bench-201', 'nasbench101': 'NAS-Bench-101'}


@dataclasses.dataclass
class Curve:
  label: str
  queries: list
  mean: np.ndarray
  stderr: np.ndarray
  trials: int
  reached_optimum: int | None  # trials that selected the best-validation architecture
  seconds_per_trial: float
  cost: dict | None = None  # hours, mean, stderr on a grid of simulated budgets; the
  # summary's budgets, budget_hours, test_error_at_budget_mean/_stderr and spent


@dataclasses.dataclass
class Panel:
  title: str
  curves: list
  optimum: float | None  # the table's lowest test error, when a summary says it


def find_workdirs(inputs):
  found = []
  for root in inputs:
    root = pathlib.Path(root)
    if not root.is_dir():
      raise FileNotFoundError(f'input {root} is not a directory')
    found += sorted({p.parent for p in root.rglob('results*.jsonl')})
  if not found:
    raise FileNotFoundError(f'no results*.jsonl under {", ".join(map(str, inputs))}')
  return list(dict.fromkeys(found))


def collect(inputs, budgets=results.BUDGETS):
  """The panels of every workdir under ``inputs``, in first-seen order; cost-axis tables at
  ``budgets`` full trainings."""
  panels, owners = {}, {}
  as_array = lambda values: np.array([np.nan if v is None else v for v in values])
  for workdir in find_workdirs(inputs):
    config = json.loads((workdir / 'config.json').read_text())
    summary_path = workdir / 'summary.json'
    reference = (json.loads(summary_path.read_text())['benchmark'] if summary_path.exists()
                 else {})
    key = (config['search_space'], config['dataset'], config.get('noisy', False))
    title = (f'{_SPACE_NAMES.get(key[0], key[0])} {_DATASET_NAMES.get(key[1], key[1])}'
             + (', noisy' if key[2] else ''))
    panel = panels.setdefault(key, Panel(title, [], reference.get('best_test_error')))
    found = results.workdir_records(workdir)
    summary = results.summarize(found, reference, budgets)
    for algorithm, stats in summary['algorithms'].items():
      owners.setdefault((key, algorithm), []).append(workdir.name)
      cost = None
      if 'budgets' in stats:
        own = [r for r in found if r['algorithm'] == algorithm]
        cost = {**_cost_curve(own, reference['full_training_s'] * max(stats['budgets'])),
                **{k: stats[k] for k in ('budgets', 'budget_hours', 'spent',
                                         'test_error_at_budget_mean',
                                         'test_error_at_budget_stderr')}}
      panel.curves.append(Curve(f'{algorithm}\0{workdir.name}', stats['queries'],
                                as_array(stats['test_error_mean']),
                                as_array(stats['test_error_stderr']), stats['trials'],
                                stats['reached_optimum'], stats['seconds_per_trial'], cost))
  for key, panel in panels.items():
    for curve in panel.curves:
      algorithm, workdir = curve.label.split('\0')
      shared = len(owners[(key, algorithm)]) > 1
      curve.label = f'{algorithm} ({workdir})' if shared else algorithm
  return list(panels.values())


def _cost_curve(own, max_seconds, points=200):
  """Mean and standard error over trials of the test error on a grid of simulated seconds
  up to ``max_seconds``, NaN where some trial has no full-fidelity answer yet."""
  seconds = np.linspace(0, max_seconds, points)
  mean, stderr = results.mean_and_stderr(
      np.array([results.at_costs(r['cost_trace'], seconds) for r in own]))
  return {'hours': seconds / 3600, 'mean': mean, 'stderr': stderr}


def plot(panels, x='queries'):
  """Test error vs queries (``x='queries'``) or vs simulated GPU-hours (``x='cost'``: the
  curves with a cost axis), mean with a standard-error band, a panel per dataset. A
  ``matplotlib.figure.Figure`` made without pyplot, so no backend is chosen or needed: a
  notebook shows it inline, :func:`save` writes it."""
  if x == 'cost':
    panels = [Panel(p.title, [c for c in p.curves if c.cost], p.optimum) for p in panels]
    panels = [p for p in panels if p.curves]
  fig = Figure(figsize=(5.2 * len(panels), 4.2))
  axes = fig.subplots(1, len(panels), squeeze=False)
  labels = list(dict.fromkeys(c.label for p in panels for c in p.curves))
  palette = colormaps['tab10' if len(labels) <= 10 else 'tab20']
  color = {label: palette(i % palette.N) for i, label in enumerate(labels)}  # same in every panel
  for ax, panel in zip(axes[0], panels):
    for curve in sorted(panel.curves, key=lambda c: _final(c, x)):  # legend: best first
      xs, mean, stderr = ((curve.queries, curve.mean, curve.stderr) if x == 'queries' else
                          (curve.cost['hours'], curve.cost['mean'], curve.cost['stderr']))
      ax.plot(xs, mean, color=color[curve.label], label=f'{curve.label} (n={curve.trials})')
      ax.fill_between(xs, mean - stderr, mean + stderr, color=color[curve.label], alpha=0.2,
                      linewidth=0)
    if panel.optimum is not None:
      ax.axhline(panel.optimum, color='black', linestyle='--', linewidth=1,
                 label=f'optimum {panel.optimum:.2f}')
    ax.set_title(panel.title)
    ax.set_xlabel('number of queries' if x == 'queries' else
                  'simulated training time (GPU-hours of the table)')
    ax.set_ylabel('test error (%) of best-by-validation')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
  fig.tight_layout()
  return fig


def _final(curve, x):
  values = curve.mean if x == 'queries' else curve.cost['mean']
  return np.inf if np.isnan(values[-1]) else values[-1]


def save(fig, out_dir, name='test_error'):
  """Writes ``<name>.png`` and ``<name>.pdf``; returns their paths."""
  out_dir = pathlib.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  paths = [out_dir / f'{name}.{ext}' for ext in ('png', 'pdf')]
  for path in paths:
    fig.savefig(path, dpi=110)
  return paths


def _rows(panel, queries):
  """``(curve, [mean, stderr or None per query], 'found/trials' or '')``, best final mean
  first."""
  rows = []
  for curve in sorted(panel.curves, key=lambda c: _final(c, 'queries')):
    cells = [(curve.mean[curve.queries.index(q)], curve.stderr[curve.queries.index(q)])
             if q in curve.queries and not np.isnan(curve.mean[curve.queries.index(q)])
             else None for q in queries]
    found = '' if curve.reached_optimum is None else f'{curve.reached_optimum}/{curve.trials}'
    rows.append((curve, cells, found))
  return rows


def _format(cell, template):
  return template.format(*cell) if cell else ''


def markdown_table(panel, queries):
  lines = [f'**{panel.title}**: test error (%), mean ± standard error; found: trials that '
           'selected the best-validation architecture', '',
           '| algorithm | trials | ' + ' | '.join(f'{q} queries' for q in queries)
           + ' | found | s/trial |',
           '| --- | ---: | ' + ' | '.join('---:' for _ in queries) + ' | ---: | ---: |']
  for curve, cells, found in _rows(panel, queries):
    shown = [_format(c, '{:.3f} ± {:.3f}') for c in cells]
    lines.append(f'| {curve.label} | {curve.trials} | ' + ' | '.join(shown)
                 + f' | {found} | {curve.seconds_per_trial:.2f} |')
  if panel.optimum is not None:
    lines.append('| optimum of the table | | ' + ' | '.join(
        f'{panel.optimum:.3f}' for _ in queries) + ' | | |')
  return '\n'.join(lines + _markdown_cost_table(panel)) + '\n'


def _cost_rows(panel):
  """``(budgets, hours, [(curve, [(mean, stderr, '*' or '') or None per budget])])`` of the
  panel's curves with a cost axis, best final mean first ('*': some trials stopped before
  spending that budget); None without such curves."""
  curves = sorted([c for c in panel.curves if c.cost], key=lambda c: _final(c, 'cost'))
  if not curves:
    return None
  rows = []
  for curve in curves:
    c = curve.cost
    rows.append((curve, [None if m is None else (m, e, '*' if n < curve.trials else '')
                         for m, e, n in zip(c['test_error_at_budget_mean'],
                                            c['test_error_at_budget_stderr'], c['spent'])]))
  return curves[0].cost['budgets'], curves[0].cost['budget_hours'], rows


_COST_CAPTION = ('at simulated training budgets: test error (%), mean ± standard error, once '
                 'the training time of N full-fidelity trainings (the table\'s mean; GPU-hours) '
                 'is spent; * some trials stopped before spending it')


def _markdown_cost_table(panel):
  found = _cost_rows(panel)
  if found is None:
    return []
  budgets, hours, rows = found
  lines = ['', f'**{panel.title}** {_COST_CAPTION}', '',
           '| algorithm | ' + ' | '.join(f'{b} ({h:g} h)' for b, h in zip(budgets, hours))
           + ' |', '| --- | ' + ' | '.join('---:' for _ in budgets) + ' |']
  for curve, cells in rows:
    lines.append(f'| {curve.label} | ' + ' | '.join(_format(c, '{:.3f} ± {:.3f}{}')
                                                    for c in cells) + ' |')
  return lines


def _latex_cost_table(panel, escape):
  found = _cost_rows(panel)
  if found is None:
    return []
  budgets, hours, rows = found
  lines = ['', f'% {panel.title} {_COST_CAPTION}'.replace('±', '$\\pm$'),
           r'\begin{tabular}{l ' + 'r ' * len(budgets) + '}', r'\toprule',
           'Algorithm & ' + ' & '.join(f'{b} ({h:g} h)' for b, h in zip(budgets, hours))
           + r' \\', r'\midrule']
  for curve, cells in rows:
    lines.append(escape(curve.label) + ' & ' + ' & '.join(
        _format(c, r'${:.3f} \pm {:.3f}${}') for c in cells) + r' \\')
  return lines + [r'\bottomrule', r'\end{tabular}']


def latex_table(panel, queries):
  escape = lambda text: text.replace('_', r'\_')
  lines = [r'\begin{tabular}{l r ' + 'r ' * len(queries) + 'r r}', r'\toprule',
           'Algorithm & Trials & ' + ' & '.join(f'{q} queries' for q in queries)
           + r' & Found & s/trial \\', r'\midrule']
  for curve, cells, found in _rows(panel, queries):
    shown = [_format(c, r'${:.3f} \pm {:.3f}$') for c in cells]
    lines.append(f'{escape(curve.label)} & {curve.trials} & ' + ' & '.join(shown)
                 + f' & {found} & {curve.seconds_per_trial:.2f}' + r' \\')
  if panel.optimum is not None:
    lines += [r'\midrule', 'Optimum & & ' + ' & '.join(
        f'{panel.optimum:.3f}' for _ in queries) + r' & & \\']
  lines += [r'\bottomrule', r'\end{tabular}'] + _latex_cost_table(panel, escape)
  caption = (f'% {panel.title}: test error (%), mean $\\pm$ standard error; found: trials '
             'that selected the best-validation architecture')
  return caption + '\n' + '\n'.join(lines) + '\n'


def write_report(inputs, out_dir, queries=(50, 100, 150), budgets=results.BUDGETS):
  """Figures (PNG, PDF; against queries, and against simulated GPU-hours where records have
  a cost axis) and tables (Markdown, LaTeX) of every panel under ``inputs``; returns
  ``(figure against queries, paths written)``."""
  panels = collect(inputs, budgets)
  out_dir = pathlib.Path(out_dir)
  fig = plot(panels)
  paths = save(fig, out_dir)
  if any(c.cost for p in panels for c in p.curves):
    paths += save(plot(panels, x='cost'), out_dir, 'test_error_vs_cost')
  markdown = out_dir / 'tables.md'
  latex = out_dir / 'tables.tex'
  markdown.write_text('\n'.join(markdown_table(p, list(queries)) for p in panels))
  latex.write_text('\n'.join(latex_table(p, list(queries)) for p in panels))
  return fig, [*paths, markdown, latex]
