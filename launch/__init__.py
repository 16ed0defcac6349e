"""absl entry points. Importing this package, before JAX starts, makes every CPU core a
JAX device (unless XLA_FLAGS already sets a count), so that trials, which the runner
splits across devices, use all cores; GPU and TPU runs are unaffected.

With several CPU devices, XLA's LAPACK calls (the GP's Cholesky) run from several threads
at once, and a multi-threaded OpenBLAS deadlocks there (seen with jax 0.10.2), so
OpenBLAS is kept to one thread unless OPENBLAS_NUM_THREADS is set.
"""

import os

if '--xla_force_host_platform_device_count' not in os.environ.get('XLA_FLAGS', ''):
  os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                             f' --xla_force_host_platform_device_count={os.cpu_count()}').strip()
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
