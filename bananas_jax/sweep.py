"""A grid of search experiments: one workdir per point under a sweep directory.

A sweep config is a search config (e.g. ``bananas_jax/configs/nasbench201.py``) with
``sweep_dir``, ``grid`` and ``points``:

  grid = 'bananas.encoding=path,adjacency; dataset=cifar10,cifar100'   # the product: 4 points
  points = 'bananas.k=5 | bananas.k=10,bananas.num_init=10'   # a list (empty: one point)

Every ``points`` entry is combined with every ``grid`` product entry. Each point is an
ordinary run of :func:`bananas_jax.experiment.run_search` in ``<sweep_dir>/<point name>``,
so a sweep killed at any moment resumes with the same command: finished points are
skipped, a point's finished trials are kept, its records are appended atomically.
"""

import copy
import itertools
import pathlib
import re

from bananas_jax import experiment
from bananas_jax.io import records
from bananas_jax.progress import Progress

_NAME_UNSAFE = re.compile(r'[^A-Za-z0-9_.=+-]')


def _parse_value(field, text, current):
  if isinstance(current, bool):
    if text.lower() not in ('true', 'false'):
      raise ValueError(f'sweep value {text!r} for {field} must be true or false')
    return text.lower() == 'true'
  try:
    return type(current)(text)
  except ValueError:
    raise ValueError(f'sweep value {text!r} for {field} is not a {type(current).__name__}') from None


def _field(config, field):
  """The current value of dotted ``field``; ValueError naming the field if unknown."""
  node = config
  for part in field.split('.'):
    if not hasattr(node, 'keys') or part not in node:
      raise ValueError(f'unknown sweep field {field!r} (no {part!r} in the config)')
    node = node[part]
  return node


def _parse_assignments(text, config, separator):
  """``'a=1,2; b=x'`` -> ``[('a', ['1', '2']), ('b', ['x'])]``, fields checked."""
  pairs = []
  for item in (t.strip() for t in text.split(separator)):
    if not item:
      continue
    field, eq, values = item.partition('=')
    if not eq or not values.strip():
      raise ValueError(f'malformed sweep entry {item!r}; expected field=value[,value...]')
    field = field.strip()
    current = _field(config, field)
    pairs.append((field, [_parse_value(field, v.strip(), current) for v in values.split(',')]))
  return pairs


def grid_points(config):
  """Every point of the sweep as a list of ``(field, value)`` overrides, in grid order."""
  axes = _parse_assignments(config.grid, config, ';')
  product = [list(zip([f for f, _ in axes], combo))
             for combo in itertools.product(*[values for _, values in axes])]
  listed = [[(f, v[0]) for f, v in _parse_assignments(entry, config, ',')]
            for entry in config.points.split('|') if entry.strip()] or [[]]
  points = [a + b for a in listed for b in product]
  for point in points:
    fields = [f for f, _ in point]
    if len(set(fields)) != len(fields):
      raise ValueError(f'sweep point {point_name(point)!r} sets a field twice')
  return points


def point_name(point):
  return _NAME_UNSAFE.sub('_', '+'.join(f'{f}={v}' for f, v in point)) or 'default'


def point_config(config, point):
  """The search config of one point: the base config with its overrides and workdir."""
  run = copy.deepcopy(config)
  with run.unlocked():
    for key in ('sweep_dir', 'grid', 'points'):
      del run[key]
  for field, value in point:
    *parents, leaf = field.split('.')
    node = run
    for part in parents:
      node = node[part]
    node[leaf] = value
  run.workdir = str(_sweep_dir(config) / point_name(point))
  return run


def _sweep_dir(config):
  return pathlib.Path(config.sweep_dir or f'runs/sweep_{config.name}')


def run_sweep(config):
  """Runs (or resumes) every point, under an overall progress bar; returns
  ``{point name: summary}``."""
  points = grid_points(config)
  runs = [point_config(config, p) for p in points]
  for run in runs:  # refuse a bad point before any is run
    experiment.build(run)
  sweep_dir = _sweep_dir(config)
  records.write_json(sweep_dir / 'sweep.json', {
      'grid': config.grid, 'points': config.points,
      'workdirs': [point_name(p) for p in points]})
  summaries = {}
  with Progress(f'sweep {sweep_dir.name}', len(points), unit='point') as bar:
    for point, run in zip(points, runs):
      name = point_name(point)
      bar.set_note(name)
      summaries[name] = experiment.run_search(run)
      bar.update(1)
    bar.log('sweep done: %d points in %s', len(points), sweep_dir)
  return summaries
