"""absl entry points, thin: parse flags and config, call one library function, exit.

Importing this package, before NumPy and JAX start (``import bananas_jax`` loads neither),
makes every CPU core a JAX device (:mod:`bananas_jax.cpu_devices`) and quiets JAX's INFO
line about a missing TPU.
"""

import json
import logging
import sys

from bananas_jax import cpu_devices

cpu_devices.use_every_core()
# JAX logs at INFO that it found no TPU on every machine without one: noise, not news.
# Its warnings still show.
logging.getLogger('jax._src.xla_bridge').setLevel(logging.WARNING)

from absl import app  # noqa: E402  (after the environment is set)
from bananas_jax.io import records  # noqa: E402


def run(main):
  """``app.run(main)``, with the errors a user can fix (a bad value, a missing file or
  optional package, a wait for other hosts that timed out) printed as ``error: ...`` with
  exit code 1 instead of a traceback."""

  def checked_main(argv):
    try:
      return main(argv)
    except (ValueError, FileNotFoundError, ImportError, TimeoutError) as e:
      sys.exit(f'error: {e}')

  app.run(checked_main)


def positive_ints(flag, values):
  """The values of list flag ``--flag`` as integers; ValueError naming the flag and what it
  got unless every one is a positive integer."""
  numbers = [int(v) for v in values if v.isdigit() and int(v) > 0]
  if not numbers or len(numbers) != len(values):
    raise ValueError(f'--{flag} must be positive integers, got {",".join(values)}')
  return numbers


def write_report(path, report):
  """A benchmark launcher's JSON report: written atomically and printed."""
  records.write_json(path, report)
  print(json.dumps(report, indent=2))
