"""Benchmarks by search-space name: ``benchmarks.load('nasbench201', 'cifar10', 200)``."""

from bananas_jax.benchmarks import nasbench101, nasbench201
from bananas_jax.benchmarks.tabular import Evaluation, TabularBenchmark

LOADERS = {'nasbench201': nasbench201.load, 'nasbench101': nasbench101.load}


def load(search_space: str, dataset: str, fidelity: int, path=None) -> TabularBenchmark:
  """``path``: the benchmark's data file; None means its default (NAS-Bench-201: the
  embedded table; NAS-Bench-101: $NASBENCH101_PATH or the default data directory)."""
  if search_space not in LOADERS:
    raise ValueError(f'no benchmark for search space {search_space!r}; '
                     f'accepted: {", ".join(LOADERS)}')
  return LOADERS[search_space](dataset=dataset, fidelity=fidelity, path=path)
