"""The digits example: a real training, and a study with two worker processes."""

import os

import numpy as np
import pytest

from experiments import digits


def test_the_split():
  (train_x, train_y), (val_x, _), (test_x, _) = digits.split()
  assert train_x.shape == (1000, 8, 8, 1) and val_x.shape[0] == 397 and test_x.shape[0] == 400
  assert set(np.unique(train_y)) == set(range(10)) and train_x.max() <= 1.0


@pytest.mark.slow
def test_a_study_with_two_worker_processes(tmp_path, monkeypatch):
  # The workers train as a user's would: XLA's default optimisation, not the suite's
  # cheap-compile flags (which make these trainings several times slower).
  monkeypatch.setenv('XLA_FLAGS', ' '.join(f for f in os.environ['XLA_FLAGS'].split()
                                           if f.startswith('--xla_force_host_platform')))
  run = digits.run_study(f'sqlite:///{tmp_path / "studies.db"}', 'random', seed=0,
                         trials=2, workers=2)  # BananasSampler: test_optuna_sampler*.py
  assert len(run['best_val_accuracy']) == 2 and run['distinct_architectures'] == 2
  assert np.all(np.diff(run['best_val_accuracy']) >= 0)
  assert 0.5 < run['chosen_test_accuracy'] <= 1 and set(run['chosen']) == set(digits.SPACE)
  # Deterministic: trained again here, the architecture scores what a worker measured, so
  # samplers differ only in what they ask (to one image: here XLA compiles with the
  # suite's cheaper passes, whose float rounding may flip one borderline prediction).
  again = digits.train(run['chosen'], digits.split())
  assert again == pytest.approx((run['chosen_val_accuracy'], run['chosen_test_accuracy']),
                                abs=1.01 / 397)
  with pytest.raises(ValueError, match="unknown sampler 'cmaes'; accepted: bananas, tpe"):
    digits.make_sampler('cmaes', 0, 0, 3, 2)
