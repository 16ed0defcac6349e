"""A training's checkpoint files: round trip, the newest two kept, damage recognised and
skipped for the previous checkpoint with a warning naming it."""

import logging

import numpy as np
import pytest

from bananas_jax.io import checkpoints


def tree(value):
  return {'state': {'params': {'w': np.full((3, 2), value, np.float32)},
                    'step': np.int32(value)}, 'history': f'[{value}]'}


def test_round_trip_and_only_the_newest_two_kept(tmp_path):
  for step in (1, 2, 3):
    checkpoints.save(tmp_path, step, tree(step))
  assert checkpoints.steps(tmp_path) == [2, 3]
  step, loaded = checkpoints.load_latest(tmp_path)
  assert step == 3 and loaded['history'] == '[3]'
  np.testing.assert_array_equal(loaded['state']['params']['w'], np.full((3, 2), 3, np.float32))
  assert loaded['state']['step'] == 3
  assert checkpoints.load_latest(tmp_path / 'none') == (None, None)


@pytest.mark.parametrize('damage', ['cut short', 'bit flip', 'other file'])
def test_a_damaged_checkpoint_is_skipped_for_the_previous_with_a_warning(tmp_path, caplog, damage):
  checkpoints.save(tmp_path, 1, tree(1))
  checkpoints.save(tmp_path, 2, tree(2))
  path = checkpoints.path_of(tmp_path, 2)
  blob = path.read_bytes()
  path.write_bytes({'cut short': blob[:-7],
                    'bit flip': blob[:-5] + bytes([blob[-5] ^ 1]) + blob[-4:],
                    'other file': b'PK\x03\x04 not a checkpoint'}[damage])
  with pytest.raises(checkpoints.CorruptCheckpoint, match=f'checkpoint {path} is corrupt'):
    checkpoints.load(path)
  with caplog.at_level(logging.WARNING):
    step, loaded = checkpoints.load_latest(tmp_path)
  assert step == 1 and loaded['history'] == '[1]'
  assert f'skipping checkpoint {path}, which cannot be read' in caplog.text
