import pytest

from bananas_jax import benchmarks


@pytest.fixture(scope='session')
def cifar10():
  return benchmarks.get('nasbench201', 'cifar10', 200)
