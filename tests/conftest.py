import os
import shutil
import tempfile

# Two CPU devices, set before JAX starts: the runner's split of trials across devices is
# then exercised by every test (test_runner_devices.py compares other device counts).
if '--xla_force_host_platform_device_count' not in os.environ.get('XLA_FLAGS', ''):
  os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                             ' --xla_force_host_platform_device_count=2').strip()
# Tests run small programs once: compiling them dominates, and XLA's cheaper CPU backend
# passes halve the suite's time. XLA's older loop emitters compile a quarter faster than
# its fusion emitters (a full run: 414 s against 560 s on a 2-core Xeon). Each program runs
# on one thread: the workers share the cores, and XLA's thread pools contending for them
# cost kernel time (580 s, 86 s of it in the kernel, against 623 s and 118 s). Subprocesses
# started by tests inherit the flags.
os.environ['XLA_FLAGS'] += (' --xla_backend_optimization_level=0'
                            ' --xla_llvm_disable_expensive_passes=true'
                            ' --xla_cpu_multi_thread_eigen=false'
                            ' --xla_cpu_use_fusion_emitters=false')
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')  # see bananas_jax/cpu_devices.py
# One XLA compilation cache per test run, made by the main process before any worker
# starts: a program one worker (or a subprocess a test starts) compiled is loaded by the
# others instead of compiled again. A test that sets its own cache directory still can.
if 'PYTEST_XDIST_WORKER' not in os.environ and 'JAX_COMPILATION_CACHE_DIR' not in os.environ:
  os.environ['JAX_COMPILATION_CACHE_DIR'] = tempfile.mkdtemp(prefix='bananas-jax-tests-xla-')
  _OWN_CACHE = os.environ['JAX_COMPILATION_CACHE_DIR']

import pytest

from bananas_jax import benchmarks


@pytest.fixture(scope='session')
def cifar10():
  return benchmarks.load('nasbench201', 'cifar10', 200)


def pytest_unconfigure(config):
  if '_OWN_CACHE' in globals():
    shutil.rmtree(_OWN_CACHE, ignore_errors=True)
