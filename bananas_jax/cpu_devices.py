"""Every CPU core a JAX device, so that batched trials (which the runner splits across
devices) use all cores on a machine without an accelerator.

Call :func:`use_every_core` before NumPy and JAX start (the launchers do it on import;
a notebook does it in its first cell). It changes nothing already set: an explicit
``--xla_force_host_platform_device_count`` in XLA_FLAGS wins, GPU and TPU runs are
unaffected. With several CPU devices, XLA's LAPACK calls (the GP's Cholesky) run from
several threads at once, and a multi-threaded OpenBLAS deadlocks there (seen with jax
0.10.2), so OpenBLAS is kept to one thread unless OPENBLAS_NUM_THREADS is set.
"""

import os


def use_every_core():
  flags = os.environ.get('XLA_FLAGS', '')
  if '--xla_force_host_platform_device_count' not in flags:
    os.environ['XLA_FLAGS'] = (
        f'{flags} --xla_force_host_platform_device_count={os.cpu_count()}').strip()
  os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
