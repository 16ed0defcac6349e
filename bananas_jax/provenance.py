"""What made a result: the device, the versions of the JAX stack, the CPU, the commit.

Every summary and benchmark report carries this, because the same seeds do not give
bit-identical BANANAS numbers on every machine (XLA's float reductions differ by CPU).
"""

import importlib.metadata
import pathlib
import platform
import subprocess

import jax

_PACKAGES = ('jax', 'jaxlib', 'flax', 'optax', 'numpy')


def provenance() -> dict:
  device = jax.devices()[0]
  return {'device': str(device), 'device_kind': device.device_kind,
          'device_count': jax.device_count(), 'cpu': _cpu_model(), 'commit': _commit(),
          **{f'{name}_version': _version(name) for name in _PACKAGES}}


def _version(package):
  try:
    return importlib.metadata.version(package)
  except importlib.metadata.PackageNotFoundError:
    return 'not installed'


def _cpu_model():
  try:
    for line in pathlib.Path('/proc/cpuinfo').read_text().splitlines():
      if line.startswith('model name'):
        return line.split(':', 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or platform.machine()


def _commit():
  """The checkout's commit, with '-dirty' for uncommitted changes; 'unknown' outside git."""
  repo = pathlib.Path(__file__).parent
  try:
    run = lambda *args: subprocess.run(['git', *args], cwd=repo, capture_output=True,
                                       text=True, timeout=10, check=True).stdout.strip()
    commit = run('rev-parse', 'HEAD')
    return commit + ('-dirty' if run('status', '--porcelain', '--untracked-files=no') else '')
  except (OSError, subprocess.SubprocessError):
    return 'unknown'
