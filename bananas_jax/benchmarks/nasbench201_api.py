"""The official NAS-Bench-201 API's query calls, answered from the embedded table.

Code that queries the official ``nas_201_api`` runs with one changed import, and needs
neither PyTorch nor the 2 GB file:

  from bananas_jax.benchmarks.nasbench201_api import NASBench201API as API
  api = API()  # the embedded table; or API('nb201.npz') made by launch.prepare_nasbench201
  index = api.query_index_by_arch('|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+'
                                  '|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|')
  api.get_more_info(index, 'cifar100', hp='200')['test-accuracy']

Which split each number is, by the official dataset name (accuracies in percent):

| dataset | ``valid-accuracy`` | ``test-accuracy`` |
| --- | --- | --- |
| ``cifar10-valid`` | x-valid: the half of the CIFAR-10 training set held out from training | not held (the ori-test of this model) |
| ``cifar10`` | none (trained on the whole training set) | ori-test: the official CIFAR-10 test set |
| ``cifar100``, ``ImageNet16-120`` | x-valid: one half of the official test set | x-test: the other half |

These are the pairs the searches use: CIFAR-10 validates on ``cifar10-valid`` and tests
the ``cifar10`` model. ``train-all-time`` (and ``train-per-time``, the same over 200
epochs) is held for the 200-epoch runs of ``cifar10-valid``, ``cifar100`` and
``ImageNet16-120``. Defaults differ from the official ``hp='12', is_random=True``: the table
holds seed means, and per-seed values only for the 200-epoch validation accuracy.
"""

import numpy as np

from bananas_jax.benchmarks import nasbench201

# Official dataset name -> (this table's dataset, holds validation, holds test, holds time).
_DATASETS = {'cifar10-valid': ('cifar10', True, False, True),
             'cifar10': ('cifar10', False, True, False),
             'cifar100': ('cifar100', True, True, True),
             'ImageNet16-120': ('imagenet16_120', True, True, True)}
_EPOCHS = {'200': 200, '12': 12}


class NASBench201API:
  """``len``, ``arch``, ``query_index_by_arch``, ``get_more_info``, ``get_cost_info`` of the
  official API over a NAS-Bench-201 table (host side, NumPy; the same arrays that
  :func:`nasbench201.load` puts on the device)."""

  def __init__(self, file_path=None, verbose=False, seed=None):
    del verbose
    self.table = nasbench201.read_table(file_path or nasbench201.DATA_FILE)
    self.meta_archs = [nasbench201.SPACE.to_string(ops) for ops in self.table['ops']]
    self._index = {arch: i for i, arch in enumerate(self.meta_archs)}
    self._rng = np.random.default_rng(seed)

  def __len__(self):
    return len(self.meta_archs)

  def arch(self, index):
    """The official architecture string of ``index``."""
    return self.meta_archs[self._check_index(index)]

  def query_index_by_arch(self, arch):
    """The official index of an architecture string (ValueError naming a malformed one)."""
    ops = nasbench201.SPACE.from_string(arch)  # refuses malformed strings
    return self._index.get(nasbench201.SPACE.to_string(ops), -1)

  def get_more_info(self, index, dataset, iepoch=None, hp='200', is_random=False):
    """The final metrics of ``index`` trained ``hp`` epochs on ``dataset`` (the official
    names above): seed means, or with ``is_random=True`` one random seed's validation
    accuracy (200 epochs)."""
    if iepoch is not None:
      raise ValueError('per-epoch metrics are not held in this table; pass iepoch=None')
    index = self._check_index(index)
    ours, has_valid, has_test, has_time = self._dataset(dataset)
    epochs = self._epochs(hp)
    t = self.table
    if is_random is not False:
      if is_random is not True or epochs != 200 or not has_valid:
        raise ValueError('is_random must be False or True; a random seed is held for the '
                         "200-epoch validation accuracy only (hp='200', a dataset with a "
                         'validation split)')
      held = t[f'{ours}_200_val_acc_seeds'][index][:t[f'{ours}_200_num_seeds'][index]]
      return {'valid-accuracy': float(held[self._rng.integers(len(held))])}
    info = {}
    if has_valid:
      info['valid-accuracy'] = float(t[f'{ours}_{epochs}_val_acc'][index])
    if has_test:
      info['test-accuracy'] = float(t[f'{ours}_{epochs}_test_acc'][index])
    if has_time and epochs == 200:
      info['train-all-time'] = float(t[f'{ours}_200_train_time_s'][index])
      info['train-per-time'] = info['train-all-time'] / 200
    return info

  def get_cost_info(self, index, dataset, hp='200'):
    """Parameters (millions) and latency (seconds); FLOPs are not held."""
    index = self._check_index(index)
    self._epochs(hp)
    ours = self._dataset(dataset)[0]
    return {'params': float(self.table[f'{ours}_params_M'][index]),
            'latency': float(self.table[f'{ours}_latency_s'][index])}

  def _check_index(self, index):
    if not 0 <= int(index) < len(self):
      raise ValueError(f'index {index} is out of range; accepted: 0 to {len(self) - 1}')
    return int(index)

  def _dataset(self, dataset):
    if dataset not in _DATASETS:
      raise ValueError(f'unknown dataset {dataset!r}; accepted: {", ".join(_DATASETS)}')
    return _DATASETS[dataset]

  def _epochs(self, hp):
    if str(hp) not in _EPOCHS:
      raise ValueError(f"unknown hp {hp!r}; accepted: '200', '12'")
    return _EPOCHS[str(hp)]
