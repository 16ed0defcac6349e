import gzip
import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bananas_jax import benchmarks, spaces
from bananas_jax.benchmarks import nasbench201

SPACE = spaces.make('nasbench201')


def arch_of_index(index):
  return jnp.asarray(nasbench201.read_table()['ops'][index], jnp.int32)[None]


def test_data_readme_facts(cifar10):
  table = nasbench201.read_table()
  assert table['ops'].shape == (15625, 6)
  assert len({tuple(r) for r in table['ops']}) == 15625
  assert int(np.argmin(cifar10.val_error)) == 6111 == int(np.argmin(cifar10.test_error))
  assert 100 - float(cifar10.val_error.min()) == pytest.approx(91.60667, abs=1e-4)
  assert 100 - float(cifar10.test_error.min()) == pytest.approx(94.37333, abs=1e-4)
  assert 100 - float(cifar10.val_error[0]) == pytest.approx(81.98267, abs=1e-4)
  assert float(table['cifar10_params_M'][0]) == pytest.approx(0.12931, abs=1e-5)
  c100 = benchmarks.load('nasbench201', 'cifar100', 200)
  assert int(np.argmin(c100.val_error)) == 9930 == int(np.argmin(c100.test_error))
  assert 100 - float(c100.val_error.min()) == pytest.approx(73.49333, abs=1e-4)
  assert 100 - float(c100.test_error.min()) == pytest.approx(73.51333, abs=1e-4)
  im = benchmarks.load('nasbench201', 'imagenet16_120', 200)
  assert int(np.argmin(im.val_error)) == 10676 and int(np.argmin(im.test_error)) == 857
  assert 100 - float(im.val_error.min()) == pytest.approx(46.73333, abs=1e-4)
  assert 100 - float(im.test_error.min()) == pytest.approx(47.31111, abs=1e-4)


def test_official_index_6111_is_the_readme_string():
  assert SPACE.to_string(arch_of_index(6111)[0]) == (
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|'
      'nor_conv_1x1~2|')


def test_string_index_round_trip_for_all_cells(cifar10):
  ops = nasbench201.read_table()['ops']
  strings = [SPACE.to_string(a) for a in ops]
  assert len(set(strings)) == 15625
  parsed = np.stack([SPACE.from_string(s) for s in strings])
  np.testing.assert_array_equal(np.asarray(cifar10.rows(jnp.asarray(parsed))), np.arange(15625))


def test_query_is_a_lookup_and_jits(cifar10):
  archs = arch_of_index(jnp.array([0, 6111, 42]))[0]
  ev = jax.jit(lambda a: cifar10.query(jax.random.PRNGKey(0), a))(archs)
  np.testing.assert_array_equal(ev.row, [0, 6111, 42])
  assert float(ev.val_error[1]) == pytest.approx(100 - 91.60667, abs=1e-4)
  assert float(ev.test_error[1]) == pytest.approx(100 - 94.37333, abs=1e-4)
  assert float(ev.train_time[0]) == pytest.approx(1444.2186, abs=1e-2)


def test_noisy_mode_draws_one_of_the_seeds(cifar10):
  archs = jnp.repeat(arch_of_index(0), 4000, axis=0)  # 3 seeds: 82.092, 81.616, 82.24
  ev = cifar10.query(jax.random.PRNGKey(0), archs, noisy=True)
  values, counts = np.unique(100 - np.asarray(ev.val_error, np.float64), return_counts=True)
  np.testing.assert_allclose(values, [81.616, 82.092, 82.24], atol=1e-4)
  assert np.all(np.abs(counts / 4000 - 1 / 3) < 0.03)
  table = nasbench201.read_table()
  two = int(np.flatnonzero(table['cifar10_200_num_seeds'] == 2)[0])
  ev = cifar10.query(jax.random.PRNGKey(1), jnp.repeat(arch_of_index(two), 200, axis=0), True)
  assert np.all(np.isfinite(ev.val_error))
  assert len(np.unique(np.asarray(ev.val_error))) == 2


def test_twelve_epoch_fidelity():
  b = benchmarks.load('nasbench201', 'cifar10', 12)
  ev = b.query(jax.random.PRNGKey(0), arch_of_index(0))
  assert float(ev.val_error[0]) == pytest.approx(100 - 63.364, abs=1e-3)
  assert float(ev.test_error[0]) == pytest.approx(100 - 69.55, abs=1e-3)
  assert not b.has_seeds


@pytest.mark.parametrize('args,message', [
    (('nasbench201', 'mnist', 200), "unknown dataset 'mnist'; accepted: cifar10, cifar100"),
    (('nasbench201', 'cifar10', 50), "unknown fidelity 50; accepted: 12, 200"),
    (('darts', 'cifar10', 200), "no benchmark for search space 'darts'; accepted: nasbench201"),
])
def test_bad_benchmark_arguments(args, message):
  with pytest.raises(ValueError, match=message):
    benchmarks.load(*args)


def test_converter_round_trip_and_errors(tmp_path):
  table = nasbench201.read_table()
  ops_to_digit = {code: digit for digit, code in enumerate(nasbench201._CSV_DIGIT_TO_CODE)}
  header = ['index', 'arch_str', 'ops']
  for ds in nasbench201.DATASETS:
    header += [f'{ds}_val_acc', f'{ds}_val_acc_nseeds'] + [f'{ds}_val_acc_s{s}' for s in range(3)]
    header += [f'{ds}_{c}' for c in ('test_acc', 'train_time_s', 'latency_s', 'params_M')]
  header += ['cifar10_valid_val_acc_12ep', 'cifar10_test_acc_12ep', 'cifar100_val_acc_12ep',
             'cifar100_test_acc_12ep', 'imagenet16_120_val_acc_12ep', 'imagenet16_120_test_acc_12ep']
  lines = [','.join(header)]
  for i, ops in enumerate(table['ops']):
    row = {'index': str(i), 'arch_str': SPACE.to_string(ops),
           'ops': ''.join(str(ops_to_digit[int(c)]) for c in ops)}
    for ds in nasbench201.DATASETS:
      seeds = table[f'{ds}_200_val_acc_seeds'][i]
      row.update({f'{ds}_val_acc': table[f'{ds}_200_val_acc'][i],
                  f'{ds}_val_acc_nseeds': table[f'{ds}_200_num_seeds'][i],
                  f'{ds}_test_acc': table[f'{ds}_200_test_acc'][i],
                  f'{ds}_train_time_s': table[f'{ds}_200_train_time_s'][i],
                  f'{ds}_latency_s': table[f'{ds}_latency_s'][i],
                  f'{ds}_params_M': table[f'{ds}_params_M'][i]})
      row.update({f'{ds}_val_acc_s{s}': '' if np.isnan(seeds[s]) else seeds[s] for s in range(3)})
      val12 = 'cifar10_valid_val_acc_12ep' if ds == 'cifar10' else f'{ds}_val_acc_12ep'
      row[val12] = table[f'{ds}_12_val_acc'][i]
      row[f'{ds}_test_acc_12ep'] = table[f'{ds}_12_test_acc'][i]
    lines.append(','.join(str(row[h]) for h in header))
  csv_path = tmp_path / 'table.csv.gz'
  with gzip.open(csv_path, 'wt') as f:
    f.write('\n'.join(lines) + '\n')
  out = nasbench201.convert_csv(csv_path, tmp_path / 'nb.npz')
  rebuilt = nasbench201.read_table.__wrapped__(out)
  assert set(rebuilt) == set(table)
  for name in table:
    np.testing.assert_array_equal(rebuilt[name], table[name], err_msg=name)

  (tmp_path / 'short.csv').write_text('\n'.join(lines[:100]))
  with pytest.raises(ValueError, match='expected 15625 rows, found 99'):
    nasbench201.convert_csv(tmp_path / 'short.csv', tmp_path / 'x.npz')
  swapped = lines[:1] + [lines[2], lines[1]] + lines[3:]
  (tmp_path / 'swapped.csv').write_text('\n'.join(swapped))
  with pytest.raises(ValueError, match='row 0 has index 1'):
    nasbench201.convert_csv(tmp_path / 'swapped.csv', tmp_path / 'x.npz')
  assert not (tmp_path / 'x.npz').exists()


def test_missing_and_corrupt_table(tmp_path):
  with pytest.raises(FileNotFoundError, match='NAS-Bench-201 table not found at .*prepare_nasbench201'):
    nasbench201.load(path=tmp_path / 'none.npz')
  (tmp_path / 'bad.npz').write_bytes(b'not a zip file')
  with pytest.raises(ValueError, match='corrupt NAS-Bench-201 table'):
    nasbench201.load(path=tmp_path / 'bad.npz')


class StandInAPI:
  """The official NAS-Bench-201 / NATS-Bench API calls that the converter uses, answering
  from the embedded table (official dataset names, accuracies in percent)."""

  def __init__(self):
    self.table = nasbench201.read_table()
    self.calls = 0
    self.ours = {'cifar10-valid': 'cifar10', 'cifar10': 'cifar10', 'cifar100': 'cifar100',
                 'ImageNet16-120': 'imagenet16_120'}

  def __len__(self):
    return 15625

  def arch(self, index):
    return nasbench201.SPACE.to_string(self.table['ops'][index])

  def query_meta_info_by_index(self, index, hp):
    api = self

    class Meta:
      def get_dataset_seeds(self, dataset):
        assert hp == '200'
        num = int(api.table[f'{api.ours[dataset]}_200_num_seeds'][index])
        return [777, 888, 999][:num]

    return Meta()

  def get_more_info(self, index, dataset, hp, is_random):
    self.calls += 1
    ds, t = self.ours[dataset], self.table
    if is_random is False:
      val = t[f'{ds}_{hp}_val_acc'][index]
    else:
      val = t[f'{ds}_200_val_acc_seeds'][index][[777, 888, 999].index(is_random)]
    info = {'train-all-time': t[f'{ds}_200_train_time_s'][index]}
    if dataset != 'cifar10':  # the full CIFAR-10 model has no validation split
      info['valid-accuracy'] = val
    if dataset != 'cifar10-valid' or ds != 'cifar10':
      info['test-accuracy'] = t[f'{ds}_{hp}_test_acc'][index]
    return info

  def get_cost_info(self, index, dataset, hp):
    ds = self.ours[dataset]
    return {'params': self.table[f'{ds}_params_M'][index],
            'latency': self.table[f'{ds}_latency_s'][index], 'flops': 0.0}


def test_official_api_converts_to_the_same_table(tmp_path):
  api = StandInAPI()
  out = nasbench201.convert_official(api, tmp_path / 'nb201.npz')
  converted, embedded = dict(np.load(out)), nasbench201.read_table()
  assert sorted(converted) == sorted(embedded)
  for name, column in embedded.items():
    np.testing.assert_array_equal(converted[name], column, err_msg=name)
  benchmark = nasbench201.load('cifar10', 200, path=out)
  assert benchmark.best_test_error == pytest.approx(100 - 94.37333, abs=1e-4)


def test_official_files_need_their_api_package(tmp_path):
  with pytest.raises(FileNotFoundError, match='official NAS-Bench-201 data not found'):
    nasbench201.open_official(tmp_path / 'NAS-Bench-201-v1_1-096897.pth')
  (tmp_path / 'NAS-Bench-201-v1_1-096897.pth').write_bytes(b'')
  (tmp_path / 'NATS-tss-v1_0-3ffb9-simple').mkdir()
  if importlib.util.find_spec('nas_201_api') is None:
    with pytest.raises(ImportError, match=r"needs the official API package 'nas_201_api' "
                                          r'\(pip install nas-bench-201'):
      nasbench201.open_official(tmp_path / 'NAS-Bench-201-v1_1-096897.pth')
  if importlib.util.find_spec('nats_bench') is None:
    with pytest.raises(ImportError, match=r"'nats_bench' \(pip install nats_bench"):
      nasbench201.open_official(tmp_path / 'NATS-tss-v1_0-3ffb9-simple')


def test_an_api_package_that_fails_to_import_says_why(tmp_path, monkeypatch):
  (tmp_path / 'nas_201_api.py').write_text("import torch_that_is_missing\n")
  monkeypatch.syspath_prepend(str(tmp_path))
  (tmp_path / 'NAS-Bench-201-v1_1-096897.pth').write_bytes(b'')
  with pytest.raises(ImportError, match="importing it failed with: No module named "
                                        "'torch_that_is_missing'"):
    nasbench201.open_official(tmp_path / 'NAS-Bench-201-v1_1-096897.pth')
