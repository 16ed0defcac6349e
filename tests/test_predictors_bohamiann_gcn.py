"""BOHAMIANN and the GCN predictors: their mechanics on worked examples (padding and
learning: test_predictor_contract.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bananas_jax import spaces
from bananas_jax.predictors import BOHAMIANN, GCN, gcn

SPACE = spaces.make('nasbench201')


def test_a_directed_graph_convolution_on_a_hand_made_chain():
  # 0 -> 1 -> 2 with self-loops, row-normalised: along the edges and against them
  along = np.array([[.5, .5, 0], [0, .5, .5], [0, 0, 1]])
  against = np.array([[1, 0, 0], [.5, .5, 0], [0, 1 / 3, 2 / 3]])
  h = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
  layer = gcn.DirectedGraphConv(features=2, dropout=0.0)
  params = {'params': {'Dense_0': {'kernel': np.array([[1.0, -1.0], [2.0, 0.5]])},
                       'Dense_1': {'kernel': np.array([[-1.0, 1.0], [0.5, 1.0]])}}}
  out = layer.apply(params, h, along, against)
  relu = lambda v: np.maximum(v, 0)
  expected = 0.5 * (relu(along @ h @ params['params']['Dense_0']['kernel'])
                    + relu(against @ h @ params['params']['Dense_1']['kernel']))
  np.testing.assert_allclose(out, expected, rtol=1e-6)
  # the network normalises a 0/1 adjacency to exactly these two matrices
  adjacency = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]], np.float32)
  spy = {}

  class Spy(gcn.DirectedGraphConv):
    def __call__(self, h, along, against):
      spy['along'], spy['against'] = along, against
      return super().__call__(h, along, against)

  net = gcn.GraphNet(1, 2, 2, 0.0)
  x = jnp.concatenate([adjacency, h], axis=-1)[None]
  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(gcn, 'DirectedGraphConv', Spy)
    net.init(jax.random.key(0), x)
  np.testing.assert_allclose(spy['along'][0], along, rtol=1e-6)
  np.testing.assert_allclose(spy['against'][0], against, rtol=1e-6)


def test_the_graph_network_ignores_how_nodes_are_numbered():
  graph = SPACE.encode(SPACE.sample(jax.random.key(0), 4), 'graph')
  order = jnp.array([7, 3, 0, 5, 1, 6, 2, 4])
  nodes = graph.shape[1]
  renumbered = graph[:, order][:, :, jnp.concatenate([order, jnp.arange(nodes, graph.shape[2])])]
  net = gcn.GraphNet(4, 16, 8, 0.1)
  params = net.init(jax.random.key(1), graph)
  np.testing.assert_allclose(net.apply(params, graph), net.apply(params, renumbered),
                             rtol=1e-5, atol=1e-6)


@pytest.fixture(scope='module')
def short_chain():
  """A short chain: 200 steps, 50 of burn-in, a network kept every 30 (4 in all)."""
  model = BOHAMIANN(num_sghmc_steps=200, num_burn_in_steps=50, keep_every=30)
  x = jnp.linspace(-1, 1, 20)[:, None]
  return model, x, model.fit(jax.random.key(0), x, jnp.sin(3 * x[:, 0]), jnp.ones(20, bool))


def test_bohamiann_keeps_a_network_every_keep_every_steps_after_burn_in(short_chain):
  assert BOHAMIANN().num_samples == 179  # steps 1050, 1100, ..., 9950 of 10,000
  model, x, params = short_chain
  assert model.num_samples == 4 and jax.tree.leaves(params['samples'])[0].shape[0] == 4
  members = model.predict_members(params, x)
  assert members.shape == (4, 20) and len({tuple(np.asarray(m)) for m in members}) == 4


def test_bohamiann_predicts_from_the_networks_kept_before_a_chain_diverged(short_chain):
  model, x, params = short_chain
  assert bool(params['finite'].all()) and model.num_samples == 4
  diverged = {**params, 'finite': params['finite'].at[2:].set(False),
              'samples': jax.tree.map(lambda leaf: leaf.at[2:].set(jnp.nan), params['samples'])}
  kept = {**params, 'finite': params['finite'][:2],
          'samples': jax.tree.map(lambda leaf: leaf[:2], params['samples'])}
  for a, b in zip(model.predict(diverged, x), model.predict(kept, x)):
    np.testing.assert_allclose(a, b, rtol=1e-6)
  assert np.isfinite(model.predict_members(diverged, x)).all()
  none = {**diverged, 'finite': jnp.zeros(4, bool)}  # nothing kept: the targets' moments
  mean, std = model.predict(none, x)
  np.testing.assert_allclose(mean, params['y_mean'])
  np.testing.assert_allclose(std, params['y_std'])


@pytest.mark.slow
def test_bohamiann_fits_its_data_and_is_less_sure_away_from_it():
  model = BOHAMIANN(num_sghmc_steps=3000, num_burn_in_steps=1000, keep_every=20)
  x = jnp.linspace(-1, 1, 40)[:, None]
  # jit-compiled, as in a search: the chain is chaotic, so other float roundings take
  # other (equally valid) paths
  params = jax.jit(model.fit)(jax.random.key(0), x, jnp.sin(3 * x[:, 0]), jnp.ones(40, bool))
  mean, std = model.predict(params, jnp.array([[0.0], [0.5], [6.0]]))
  np.testing.assert_allclose(mean[:2], np.sin([0.0, 1.5]), atol=0.3)
  assert std[2] > 1.3 * std[:2].max()


def test_the_neural_predictor_gcn_has_no_spread():
  model = GCN(epochs=2, width=8, linear_width=4)
  x = SPACE.encode(SPACE.sample(jax.random.key(0), 12), 'graph')
  params = model.fit(jax.random.key(1), x, jnp.arange(12.0), jnp.ones(12, bool))
  mean, std = model.predict(params, x)
  assert mean.shape == (12,) and not np.any(std)


@pytest.mark.parametrize('make, message', [
    (lambda: BOHAMIANN(num_sghmc_steps=1000),
     'num_sghmc_steps .1000. must leave at least one network'),
    (lambda: BOHAMIANN(mdecay=1.5), r'bohamiann: mdecay must be in \(0, 1\), got 1.5'),
    (lambda: GCN(dropout=1.0), r'gcn: dropout must be in \[0, 1\), got 1.0'),
    (lambda: GCN(width=0), 'gcn: width must be at least 1, got 0'),
])
def test_bad_settings(make, message):
  with pytest.raises(ValueError, match=message):
    make()
