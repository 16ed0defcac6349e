import pytest

from bananas_jax import experiment
from bananas_jax.configs import nasbench201, predictor
from experiments.configs import ablations, bananas_variants


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


def test_variant_config_builds_on_the_tuning_seeds():
  config = bananas_variants.get_config()
  _, algorithms = experiment.build(config)
  assert algorithms['bananas_climb_pi_adj'].acq_opt == 'local_search'
  assert config.seed == 1000  # never the reporting seeds 0-99


def test_unknown_ablation():
  with pytest.raises(ValueError, match="unknown ablation 'depth'; accepted: encoding"):
    ablations.get_config('depth')


def test_predictor_config_fields():
  config = predictor.get_config()
  assert config.train_sizes == '20,50,100,200,500'
