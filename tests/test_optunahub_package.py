"""The OptunaHub registry package hub/package/samplers/bananas: it loads as the registry
loads it, its example runs, and its README's front matter is what the registry reads."""

import pathlib
import runpy

import optuna
import optunahub
import pytest

from bananas_jax.integrations import optuna_sampler

REGISTRY = pathlib.Path(__file__).parents[1] / 'hub' / 'package'
PACKAGE = REGISTRY / 'samplers' / 'bananas'


def load(package):
  return optunahub.load_local_module(package, registry_root=str(REGISTRY))


def test_the_package_loads_from_a_local_registry():
  module = load('samplers/bananas')
  assert module.BananasSampler is optuna_sampler.BananasSampler
  assert module.suggest is optuna_sampler.suggest


def test_the_front_matter_and_requirements():
  text = (PACKAGE / 'README.md').read_text()
  assert text.startswith('---\n')
  front = dict(line.split(': ', 1) for line in text.split('---\n')[1].splitlines())
  assert set(front) == {'author', 'title', 'description', 'tags', 'optuna_versions', 'license'}
  assert 'sampler' in front['tags'][1:-1].split(', ')  # samplers/ packages must say so
  # Run also under Optuna's floor version (test_optuna_floor.py): both are listed.
  assert optuna.__version__ in front['optuna_versions'][1:-1].split(', ')
  assert (PACKAGE / 'requirements.txt').read_text().split() == ['bananas-jax>=0.2.0']
  for part in ('## Abstract', '## Class or Function Names', '## Installation', '## Example'):
    assert part in text


@pytest.mark.slow
def test_the_example_runs(monkeypatch):
  monkeypatch.setattr(optunahub, 'load_module', load)  # the registry, without the network
  study = runpy.run_path(str(PACKAGE / 'example.py'))['study']
  values = [t.value for t in study.trials]
  assert len(values) == 20 and study.best_value == min(values)
  assert len({tuple(t.params.values()) for t in study.trials}) == 20
