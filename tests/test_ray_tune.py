"""Ray Tune's OptunaSearch asking BananasSampler (the [ray] extra; ./dev test installs it)."""

import pytest
import ray

from bananas_jax import spaces
from bananas_jax.integrations import ray_tune
from experiments import digits
from experiments import ray_tune as experiment

SPACE = spaces.make('nasbench201')


@pytest.mark.slow
def test_two_trials_at_once_on_lookups(tmp_path, cifar10):
  """Tune's two workers evaluate what the searcher proposes: 4 random cells, then the
  model's (settings num_init 4, k 2), each the table's value. (The digits CNN's run with
  two trainings at once, by `python -m experiments.ray_tune`: experiments/RESULTS.md.)"""
  ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
  try:
    run = experiment.run('table', trials=6, concurrent=2, seed=0, storage_path=tmp_path)
  finally:
    ray.shutdown()
  assert (run['finished'], run['errors'], run['distinct_architectures']) == (6, 0, 6)
  assert run['workers'] == 2
  for config, value in zip(run['configs'], run['values']):
    row = int(cifar10.rows(ray_tune.arch_of(config, SPACE)[None])[0])
    assert value == float(cifar10.val_error[row])


def test_the_searcher_holds_the_space_and_the_sampler_its_settings():
  searcher = ray_tune.searcher(digits.SPACE, 'val_error', 'min', seed=3, total_queries=40)
  sampler = searcher._sampler  # Tune's attribute: it has no public one
  assert (sampler.mode, sampler.seed, sampler.total_queries) == ('async', 3, 40)
  assert sampler.space.decisions() == {k: tuple(v) for k, v in digits.SPACE.items()}


def test_arch_of_a_config_and_of_a_config_outside_the_space():
  config = {name: options[0] for name, options in SPACE.decisions().items()}
  assert ray_tune.arch_of(config, SPACE).tolist() == [0] * 6
  with pytest.raises(ValueError, match="is not a point of the space; its decisions: .*'edge_0_1'"):
    ray_tune.arch_of(dict(config, edge_0_1='conv7x7'), SPACE)
