"""The package as a user installs it: a wheel built from the checkout, used from elsewhere."""

import pathlib
import re
import subprocess
import sys
import zipfile

import pytest

import bananas_jax

pytestmark = pytest.mark.slow  # an end-to-end test: left out of ./dev test --quick

ROOT = pathlib.Path(__file__).parents[1]


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
  """The checkout built into a wheel and installed (without dependencies: they are this
  interpreter's) into a directory of its own."""
  tmp = tmp_path_factory.mktemp('wheel')
  subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '-w', str(tmp),
                  str(ROOT)], check=True, capture_output=True)
  wheel, = tmp.glob('bananas_jax-*.whl')
  target = tmp / 'site'
  subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--target',
                  str(target), str(wheel)], check=True, capture_output=True)
  return wheel, target


def run_outside(target, code, cwd):
  return subprocess.run([sys.executable, '-c', code], cwd=cwd, env={'PYTHONPATH': str(target),
                        'PATH': '/usr/bin:/bin'}, capture_output=True, text=True, check=True)


def test_wheel_holds_the_data_configs_and_launchers(installed):
  wheel, _ = installed
  names = zipfile.ZipFile(wheel).namelist()
  for needed in ('bananas_jax/benchmarks/data/nasbench201.npz', 'bananas_jax/configs/nasbench201.py',
                 'bananas_jax/launch/search.py'):
    assert needed in names
  assert not any(n.startswith(('launch/', 'experiments/', 'tests/')) for n in names)
  entry_points = next(n for n in names if n.endswith('entry_points.txt'))
  assert 'bananas-search = bananas_jax.launch.search:cli' in zipfile.ZipFile(wheel).read(
      entry_points).decode()


SMALLER = [('np.arange(10, 151, 10)', 'np.arange(10, 31, 10)'),
           ('total_queries=150', 'total_queries=30'), ('seeds=range(10)', 'seeds=range(2)')]


def test_readme_example_runs_from_an_installed_wheel(installed, tmp_path):
  _, target = installed
  readme = (ROOT / 'README.md').read_text()
  example = re.search(r'<!-- readme-example.*?-->\n```python\n(.*?)```', readme, re.S).group(1)
  for old, new in SMALLER:  # the example at a fraction of its size (the suite's time budget)
    assert example.count(old) == 1, old
    example = example.replace(old, new)
  check = ('import bananas_jax, pathlib\n'
           f'assert pathlib.Path(bananas_jax.__file__).is_relative_to({str(target)!r})\n'
           f'assert bananas_jax.__version__ == {bananas_jax.__version__!r}\n')
  run_outside(target, check + example, cwd=tmp_path)
  assert (tmp_path / 'bananas_vs_random.png').stat().st_size > 10_000


def test_launcher_runs_from_an_installed_wheel(installed, tmp_path):
  _, target = installed
  out = run_outside(target, 'import runpy, sys; sys.argv = ["bananas-search", '
                    '"--config.algorithms=random_search", "--config.trials=2", '
                    '"--config.total_queries=20"]; '
                    'runpy.run_module("bananas_jax.launch.search", run_name="__main__")',
                    cwd=tmp_path)
  assert 'random_search' in out.stdout
  assert (tmp_path / 'runs' / 'search_nasbench201_cifar10_200ep' / 'summary.json').exists()
