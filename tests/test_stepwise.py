import jax
import ml_collections
import pytest

from bananas_jax import stepwise
from bananas_jax.configs import nasbench201


def small_config(workdir):
  config = ml_collections.ConfigDict()
  config.search_space = 'nasbench201'
  config.algorithm = 'bananas'
  config.total_queries = 14
  config.seed = 3
  config.workdir = str(workdir)
  config.bananas = nasbench201.algorithm_section(
      'bananas', num_init=6, k=4, predictor=dict(epochs=5, num_ensemble=2))
  return config


def table_query(cifar10, calls):
  """An 'expensive' query answered by the table, counting its calls."""

  def query_fn(text, workdir):
    calls.append(text)
    arch = cifar10.space.from_string(text)[None]
    return float(cifar10.query(jax.random.key(0), arch).val_error[0])

  return query_fn


def test_resumes_after_a_kill_without_asking_or_evaluating_twice(tmp_path, cifar10):
  calls = []
  query = table_query(cifar10, calls)
  whole = stepwise.run_stepwise(small_config(tmp_path / 'whole'), query)
  assert len(whole) == 14 and len(calls) == 14
  assert len({r['arch'] for r in whole}) == 14  # every query new
  assert [r['step'] for r in whole] == [0] * 6 + [1] * 4 + [2] * 4

  def dies_at_the_ninth(text, workdir):
    if len(calls) == 8:
      raise KeyboardInterrupt
    return query(text, workdir)

  calls.clear()
  with pytest.raises(KeyboardInterrupt):
    stepwise.run_stepwise(small_config(tmp_path / 'cut'), dies_at_the_ninth)
  calls.clear()
  resumed = stepwise.run_stepwise(small_config(tmp_path / 'cut'), query)
  assert len(calls) == 6  # only the 6 unfinished evaluations ran
  assert resumed == whole  # the replayed state asked the same architectures


def test_refuses_a_workdir_with_other_settings(tmp_path, cifar10):
  config = small_config(tmp_path)
  stepwise.run_stepwise(config, table_query(cifar10, []))
  config.bananas.predictor.epochs = 6
  with pytest.raises(ValueError, match=r'holds a run with a different config \(fields bananas\)'):
    stepwise.run_stepwise(config, table_query(cifar10, []))
  config.bananas.predictor.epochs = 5
  config.data_dir = 'elsewhere'  # where the data lives changes no result
  assert len(stepwise.run_stepwise(config, table_query(cifar10, []))) == 14
