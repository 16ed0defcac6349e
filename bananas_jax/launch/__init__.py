"""absl entry points, thin: parse flags and config, call one library function, exit.

Importing this package, before NumPy and JAX start (``import bananas_jax`` loads neither),
makes every CPU core a JAX device (unless
XLA_FLAGS already sets a count), so that trials, which the runner splits across devices,
use all cores; GPU and TPU runs are unaffected. With several CPU devices, XLA's LAPACK
calls (the GP's Cholesky) run from several threads at once, and a multi-threaded OpenBLAS
deadlocks there (seen with jax 0.10.2), so OpenBLAS is kept to one thread unless
OPENBLAS_NUM_THREADS is set.
"""

import json
import logging
import os
import sys

if '--xla_force_host_platform_device_count' not in os.environ.get('XLA_FLAGS', ''):
  os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                             f' --xla_force_host_platform_device_count={os.cpu_count()}').strip()
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
# JAX logs at INFO that it found no TPU on every machine without one: noise, not news.
logging.getLogger('jax._src.xla_bridge').setLevel(logging.WARNING)

from absl import app  # noqa: E402  (after the environment is set)

from bananas_jax.io import records  # noqa: E402


def run(main):
  """``app.run(main)``, with the errors a user can fix (a bad value, a missing file or
  optional package) printed as ``error: ...`` with exit code 1 instead of a traceback."""

  def checked_main(argv):
    try:
      return main(argv)
    except (ValueError, FileNotFoundError, ImportError) as e:
      sys.exit(f'error: {e}')

  app.run(checked_main)


def write_report(path, report):
  """A benchmark launcher's JSON report: written atomically and printed."""
  records.write_json(path, report)
  print(json.dumps(report, indent=2))
