"""The official NAS-Bench-201 API's query calls over the embedded table."""

import pytest

from bananas_jax.benchmarks import nasbench201
from bananas_jax.benchmarks.nasbench201_api import NASBench201API

ARCH = ('|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+'
                '|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|')


@pytest.fixture(scope='module')
def api():
  return NASBench201API(seed=0)


def test_official_user_code(api):
  # As a user of `from nas_201_api import NASBench201API as API` writes it.
  index = api.query_index_by_arch(ARCH)
  assert api.arch(index) == ARCH and len(api) == 15625
  best = max(range(len(api)), key=lambda i: api.get_more_info(i, 'cifar10')['test-accuracy'])
  assert api.get_more_info(best, 'cifar10', hp='200', is_random=False)['test-accuracy'] == \
      pytest.approx(94.37333, abs=1e-4)  # the published optimum


@pytest.mark.parametrize('dataset, ours', [('cifar10-valid', 'cifar10'), ('cifar10', 'cifar10'),
                                           ('cifar100', 'cifar100'),
                                           ('ImageNet16-120', 'imagenet16_120')])
@pytest.mark.parametrize('hp', ['200', '12'])
def test_numbers_equal_the_embedded_table(api, dataset, ours, hp):
  table = nasbench201.read_table()
  for index in (0, 1234, 15624):
    info = api.get_more_info(index, dataset, hp=hp)
    if dataset != 'cifar10':
      assert info['valid-accuracy'] == float(table[f'{ours}_{hp}_val_acc'][index])
    if dataset != 'cifar10-valid':
      assert info['test-accuracy'] == float(table[f'{ours}_{hp}_test_acc'][index])
    assert ('train-all-time' in info) == (hp == '200' and dataset != 'cifar10')
    cost = api.get_cost_info(index, dataset)
    assert cost['params'] == float(table[f'{ours}_params_M'][index])


def test_the_searches_validation_and_test_pairs(api):
  benchmark = nasbench201.load('cifar10', 200)
  index = 5000
  assert 100 - api.get_more_info(index, 'cifar10-valid')['valid-accuracy'] == pytest.approx(
      float(benchmark.val_error[index]))
  assert 100 - api.get_more_info(index, 'cifar10')['test-accuracy'] == pytest.approx(
      float(benchmark.test_error[index]))


def test_a_random_seed(api):
  table = nasbench201.read_table()
  seeds = table['cifar100_200_val_acc_seeds'][77]
  draws = {api.get_more_info(77, 'cifar100', is_random=True)['valid-accuracy'] for _ in range(40)}
  assert draws <= {float(v) for v in seeds if v == v} and len(draws) > 1


@pytest.mark.parametrize('call, message', [
    (lambda a: a.get_more_info(0, 'cifar10-test'), "unknown dataset 'cifar10-test'; accepted: "
                                                   'cifar10-valid, cifar10, cifar100'),
    (lambda a: a.get_more_info(0, 'cifar10', hp='90'), "unknown hp '90'; accepted: '200', '12'"),
    (lambda a: a.get_more_info(15625, 'cifar10'), 'index 15625 is out of range'),
    (lambda a: a.get_more_info(0, 'cifar10', is_random=777), 'is_random must be False or True'),
    (lambda a: a.get_more_info(0, 'cifar100', iepoch=3), 'per-epoch metrics are not held'),
    (lambda a: a.query_index_by_arch('|conv~0|'), 'malformed'),
])
def test_bad_queries(api, call, message):
  with pytest.raises(ValueError, match=message):
    call(api)
