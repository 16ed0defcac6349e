"""absl entry points. Importing this package, before JAX starts, makes every CPU core a
JAX device (unless XLA_FLAGS already sets a count), so that trials, which the runner
splits across devices, use all cores; GPU and TPU runs are unaffected."""

import os

if '--xla_force_host_platform_device_count' not in os.environ.get('XLA_FLAGS', ''):
  os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                             f' --xla_force_host_platform_device_count={os.cpu_count()}').strip()
