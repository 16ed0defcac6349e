import json

import pytest

from bananas_jax import predictor_study as study
from bananas_jax.configs import predictor as predictor_config


def tiny_config(workdir):
  config = predictor_config.get_config()
  config.update(dict(train_sizes='10,30', num_test=40, seeds=2, scatter_size=30,
                     encodings='adjacency,path', workdir=str(workdir)))
  config.predictor.epochs = 5
  config.predictor.num_ensemble = 2
  return config


def test_study_writes_metrics_and_figure(tmp_path):
  report = study.run_predictor_study(tiny_config(tmp_path))
  rows = report['results']
  assert [(r['encoding'], r['train_size']) for r in rows] == [
      ('adjacency', 10), ('adjacency', 30), ('path', 10), ('path', 30)]
  for r in rows:
    assert r['mae'] > 0 and -1 <= r['kendall_tau'] <= 1 and -1 <= r['spearman_rho'] <= 1
  assert json.loads((tmp_path / 'predictor.json').read_text())['results'] == rows
  assert (tmp_path / 'predictor.png').read_bytes()[:4] == b'\x89PNG'
  assert 'Kendall tau' in study.format_report(report)


def test_study_refuses_bad_values(tmp_path):
  config = tiny_config(tmp_path)
  config.encodings = 'adjacency,graph'
  with pytest.raises(ValueError, match="unknown encoding 'graph'"):
    study.run_predictor_study(config)
