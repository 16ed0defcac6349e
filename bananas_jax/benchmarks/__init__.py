"""Benchmarks by search-space name: ``benchmarks.load('nasbench201', 'cifar10', 200)``."""

from bananas_jax.benchmarks import nasbench101, nasbench201, nasbench201_features
from bananas_jax.benchmarks.tabular import Evaluation, MultiFidelityBenchmark, TabularBenchmark

LOADERS = {'nasbench201': nasbench201.load, 'nasbench101': nasbench101.load}
# The training budgets (epochs) each benchmark's tables hold.
FIDELITIES = {'nasbench201': nasbench201.FIDELITIES, 'nasbench101': nasbench101.FIDELITIES}
# Features of every cell that cost no training (zero-cost scores, sizes), by dataset.
FREE_FEATURES = {'nasbench201': nasbench201_features.model_inputs}


def load(search_space: str, dataset: str, fidelity: int, path=None) -> TabularBenchmark:
  """``path``: the benchmark's data file; None means its default (NAS-Bench-201: the
  embedded table; NAS-Bench-101: $NASBENCH101_PATH or the default data directory)."""
  if search_space not in LOADERS:
    raise ValueError(f'no benchmark for search space {search_space!r}; '
                     f'accepted: {", ".join(LOADERS)}')
  return LOADERS[search_space](dataset=dataset, fidelity=fidelity, path=path)


def load_multifidelity(search_space: str, dataset: str, fidelity: int,
                       path=None) -> MultiFidelityBenchmark:
  """The benchmark at every fidelity up to ``fidelity`` epochs, the reported one (NAS-Bench-101
  needs ``nasbench_full.tfrecord``, whose four budgets are read and cached one by one)."""
  if search_space not in LOADERS:
    raise ValueError(f'no benchmark for search space {search_space!r}; '
                     f'accepted: {", ".join(LOADERS)}')
  if fidelity not in FIDELITIES[search_space]:
    raise ValueError(f'unknown fidelity {fidelity!r} for {search_space}; accepted: '
                     f'{", ".join(map(str, FIDELITIES[search_space]))} (epochs)')
  return MultiFidelityBenchmark.stack([
      load(search_space, dataset, epochs, path)
      for epochs in FIDELITIES[search_space] if epochs <= fidelity])


def free_features(search_space: str, dataset: str) -> dict:
  """``{name: float[rows]}`` in the table's row order: the free features the benchmark
  offers (none for NAS-Bench-101)."""
  return FREE_FEATURES[search_space](dataset) if search_space in FREE_FEATURES else {}
