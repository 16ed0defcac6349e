"""The Optuna tests again under the oldest Optuna that pyproject.toml accepts (the suite
itself runs the newest, requirements.txt's). ./dev test installs that version alone into
.venv/optuna-floor; here it goes first on the path of a pytest subprocess."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[1]


def optuna_floor():
  return re.search(r'"optuna>=([0-9.]+)"', (ROOT / 'pyproject.toml').read_text()).group(1)


@pytest.mark.slow
def test_the_sampler_tests_pass_on_the_oldest_accepted_optuna():
  floor, site = optuna_floor(), pathlib.Path(sys.prefix) / 'optuna-floor'
  assert (site / f'optuna-{floor}.dist-info').is_dir(), (
      f'Optuna {floor} is not installed in {site}: ./dev test installs it there')
  env = dict(os.environ, PYTHONPATH=str(site))
  version = subprocess.run([sys.executable, '-c', 'import optuna; print(optuna.__version__)'],
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
  assert version == floor
  run = subprocess.run(
      [sys.executable, '-m', 'pytest', '-q', '-m', 'not slow', 'tests/test_optuna_sampler.py',
       'tests/test_optunahub_package.py'], cwd=ROOT, env=env, capture_output=True, text=True)
  assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
