"""Benchmarks by search-space name: ``benchmarks.get('nasbench201', 'cifar10', 200)``."""

from bananas_jax.benchmarks import nasbench201
from bananas_jax.benchmarks.tabular import Evaluation, TabularBenchmark

LOADERS = {'nasbench201': nasbench201.load}


def get(search_space: str, dataset: str, fidelity: int) -> TabularBenchmark:
  if search_space not in LOADERS:
    raise ValueError(f'no benchmark for search space {search_space!r}; '
                     f'accepted: {", ".join(LOADERS)}')
  return LOADERS[search_space](dataset=dataset, fidelity=fidelity)
