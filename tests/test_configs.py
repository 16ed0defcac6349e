import pytest

from bananas_jax import experiment, sweep
from bananas_jax.configs import nasbench201, predictor
from experiments.configs import ablations, bananas_plus, paper_comparison


def test_main_config_builds_every_algorithm():
  config = nasbench201.get_config()
  config.algorithms = 'bananas,random_search,evolution,local_search,gp_bo,reinforce'
  _, algorithms = experiment.build(config)
  assert list(algorithms) == config.algorithms.split(',')


@pytest.mark.parametrize('name', sorted(ablations.VARIANTS))
def test_ablation_configs_build(name):
  config = ablations.get_config(name)
  _, algorithms = experiment.build(config)
  assert list(algorithms)[0] == 'bananas' and len(algorithms) > 1
  assert str(experiment.workdir_of(config)).startswith(f'runs/ablation_{name}_nasbench201')


def test_bananas_plus_sweep_tunes_and_reports_on_disjoint_seeds():
  for seeds, first in (('eval', 0), ('tune', 1000)):
    config = bananas_plus.get_config(seeds)
    assert config.seed == first and config.trials == 100
    _, algorithms = experiment.build(config)
    assert list(algorithms) == ['bananas', 'bananas_adjacency', 'bananas_k5', 'bananas_explore',
                                'bananas_plus', 'local_search']
    assert len(sweep.grid_points(config)) == 6  # 3 datasets, with and without noise
  with pytest.raises(ValueError, match="unknown seeds 'test'; accepted: eval, tune"):
    bananas_plus.get_config('test')


def test_the_paper_comparison_builds_every_row_of_the_table_on_both_benchmarks():
  config = paper_comparison.get_config()
  _, algorithms = experiment.build(config)
  assert list(algorithms) == list(paper_comparison.ALGORITHMS)
  assert algorithms['nasbot'].encoding == 'nasbot'
  assert algorithms['nasbot'].predictor.distance == 'l1'
  assert len(sweep.grid_points(config)) == 3 and config.trials == 100
  config = paper_comparison.get_config('nasbench101')
  assert config.search_space == 'nasbench101' and sweep.grid_points(config) == [[]]
  assert config.algorithms == ','.join(paper_comparison.ALGORITHMS)
  with pytest.raises(ValueError, match="unknown benchmark 'nb301'; accepted: nasbench201"):
    paper_comparison.get_config('nb301')


def test_unknown_ablation():
  with pytest.raises(ValueError, match="unknown ablation 'depth'; accepted: encoding"):
    ablations.get_config('depth')


def test_predictor_config_fields():
  config = predictor.get_config()
  assert config.train_sizes == '20,50,100,200,500'
