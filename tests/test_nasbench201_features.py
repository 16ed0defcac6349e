"""The NAS-Bench-201 cells' training-free features: worked examples, the benchmark's own
parameter counts, synflow against its gradient definition, and the shipped file."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bananas_jax.benchmarks import nasbench201
from bananas_jax.benchmarks import nasbench201_features as features
from bananas_jax.spaces import nasbench201 as space_lib

# Official index 0: avg_pool_3x3, nor_conv_1x1, skip, nor_conv_1x1, skip, skip.
STEM, CLASSIFIER = 3 * 16 * 9, 64 * 10
REDUCTIONS = [(9 * c * 2 * c, 9 * 2 * c * 2 * c, c * 2 * c) for c in (16, 32)]  # a, b, shortcut


def test_index_0_by_hand():
  """Two 1x1 convolutions per cell (kernel and BatchNorm's scale and bias), the stem, the
  two residual reductions (each BatchNorm'd conv and the shortcut's conv), the last
  BatchNorm and the classifier: 129,306, the benchmark's 0.129306 M."""
  params = (STEM + 2 * 16 + sum(5 * 2 * (c * c + 2 * c) for c in (16, 32, 64))
            + sum(a + b + s + 2 * 2 * 2 * c for (a, b, s), c in zip(REDUCTIONS, (16, 32)))
            + 2 * 64 + CLASSIFIER + 10)
  assert params == 129_306
  assert features.parameter_counts('cifar10')[0] == pytest.approx(params / 1e6, abs=1e-12)
  macs = (STEM * 32 * 32 + sum(5 * 2 * c * c * side * side for c, side in
                               ((16, 32), (32, 16), (64, 8)))
          + sum((a + b + s) * side * side for (a, b, s), side in zip(REDUCTIONS, (16, 8)))
          + CLASSIFIER)
  assert macs == 15_647_360
  assert features.flop_counts('cifar10')[0] == pytest.approx(macs / 1e6, abs=1e-12)
  assert features.flop_counts('imagenet16_120')[0] == pytest.approx(
      (macs - CLASSIFIER) / 4e6 + 64 * 120 / 1e6, abs=1e-12)  # 16x16 images, 120 classes


def test_parameter_counts_are_the_benchmarks():
  """Equal to the table's counts (5 decimals, as it stores them) for all but 204 cells,
  the same 204 on every dataset, each off by one amount on all three (+-0.0093 to
  +-0.162 M), which no cell of this network has: the table's values for those rows."""
  table, differing = nasbench201.read_table(), []
  for dataset in features.NUM_CLASSES:
    ours = features.parameter_counts(dataset)
    theirs = table[f'{dataset}_params_M'].astype(np.float64)
    differing.append(np.flatnonzero(np.abs(ours - theirs) > 6e-6))
    offset = (theirs - ours)[differing[-1]]
    if dataset == 'cifar10':
      first_offset = offset
    np.testing.assert_allclose(offset, first_offset, atol=1e-5)
  assert len(differing[0]) == 204
  for rows in differing[1:]:
    np.testing.assert_array_equal(rows, differing[0])


def test_synflow_is_its_gradient_definition(monkeypatch):
  """The forward-mode derivative equals the sum of |theta * dR/dtheta| by gradient, on the
  network with one cell per stage (the identity holds at any depth; the full network's
  gradient compiles for half a minute here)."""
  monkeypatch.setattr(features, 'CELLS_PER_STAGE', 1)
  archs = np.array([[4, 2, 2, 1, 1, 2], [0, 1, 2, 3, 4, 3]])
  fast = features.synflow_scores('imagenet16_120', archs=archs, chunk=2)
  with features._x64():
    absolute = jax.tree.map(lambda v: jnp.abs(v.astype(jnp.float64)),
                            features._variables('imagenet16_120', jnp.float64))
    model, image = features.network('imagenet16_120'), jnp.ones((1, 16, 16, 3), jnp.float64)

    @jax.jit
    def by_gradient(weights, variables):
      grads = jax.grad(lambda p: model.apply({**variables, 'params': p}, image, weights).sum())(
          variables['params'])
      return sum(jnp.sum(jnp.abs(p * g)) for p, g in
                 zip(jax.tree.leaves(variables['params']), jax.tree.leaves(grads)))

    for arch, score in zip(archs, fast):
      slow = by_gradient(jnp.eye(space_lib.NUM_OPS)[arch], absolute)
      assert score == pytest.approx(float(slow), rel=1e-12)


@pytest.mark.slow
def test_the_shipped_synflow_is_recomputed_and_zero_without_a_path():
  none = space_lib.OPS.index('none')
  rows = [6111, 857]  # the best CIFAR-10 and ImageNet16-120 test cells
  archs = np.concatenate([nasbench201.read_table()['ops'][rows], [[none] * 6]])
  scores = features.synflow_scores('imagenet16_120', archs=archs, chunk=3)
  # Shipped as XLA's default passes compiled them, in blocks of 64: the suite's cheaper
  # passes sum in another order (6e-9 relative here, through products of about 1e54).
  np.testing.assert_allclose(scores[:2], features.load('imagenet16_120')['synflow'][rows],
                             rtol=1e-6)
  assert scores[2] == 0


def test_the_shipped_features():
  table = nasbench201.read_table()
  for dataset in features.NUM_CLASSES:
    shipped = features.load(dataset)
    np.testing.assert_array_equal(shipped['params'], features.parameter_counts(dataset))
    np.testing.assert_array_equal(shipped['flops'], features.flop_counts(dataset))
    synflow = shipped['synflow']
    assert synflow.shape == (15_625,) and np.all(synflow >= 0)
    # The cells without a path from input to output score 0; ranked by log synflow, the
    # rest follow test accuracy (Spearman's rho; 0.75 in Abdelfattah et al., 2021).
    order = lambda x: np.argsort(np.argsort(x))
    positive = synflow > 0
    rho = np.corrcoef(order(np.log(synflow[positive])),
                      order(table[f'{dataset}_200_test_acc'][positive]))[0, 1]
    assert rho > 0.5, (dataset, rho)
  with pytest.raises(ValueError, match="unknown dataset 'svhn'; accepted: cifar10, cifar100"):
    features.load('svhn')


def test_a_missing_file_says_how_to_make_it(tmp_path):
  with pytest.raises(FileNotFoundError, match='prepare_nasbench201_features'):
    features.read.__wrapped__(tmp_path / 'nasbench201_features.npz')
