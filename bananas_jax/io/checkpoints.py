"""A training's checkpoints: one self-checking file per epoch, written synchronously by the
training's own thread into its own directory.

Several trainings run at once in one process (a DARTS search step, one per device group).
Each writes plain files with ``records.atomic_file`` and shares nothing with the others: no
background thread, event loop or storage driver state (which is how orbax's asynchronous
saves raced between concurrent trainings). A file is ``MAGIC``, the SHA-256 of the
payload, then the payload (the pytree's state dict in msgpack), so a file cut short or
corrupted is recognised, reported and skipped in favour of the previous one.
"""

import hashlib
import pathlib
import re

import jax
from absl import logging
from flax import serialization

from bananas_jax.io import records

MAGIC = b'bananas-jax checkpoint v1\n'
_NAME = re.compile(r'^epoch_(\d+)\.ckpt$')


class CorruptCheckpoint(ValueError):
  """A checkpoint file whose content is not what was written."""


def path_of(directory, step):
  return pathlib.Path(directory) / f'epoch_{step:06d}.ckpt'


def steps(directory):
  """The steps that have a checkpoint file in ``directory``, ascending."""
  directory = pathlib.Path(directory)
  if not directory.is_dir():
    return []
  return sorted(int(m.group(1)) for m in map(_NAME.match, (p.name for p in directory.iterdir()))
                if m)


def save(directory, step, tree, keep=2):
  """Writes ``tree`` (arrays fetched to the host) as the checkpoint of ``step``, atomically,
  then deletes all but the newest ``keep`` checkpoints."""
  payload = serialization.msgpack_serialize(
      serialization.to_state_dict(jax.device_get(tree)))
  with records.atomic_file(path_of(directory, step), 'wb') as f:
    f.write(MAGIC + hashlib.sha256(payload).digest() + payload)
  for old in steps(directory)[:-keep]:
    path_of(directory, old).unlink(missing_ok=True)


def load(path):
  """A checkpoint file's tree of NumPy arrays (nested dicts); CorruptCheckpoint naming the
  file when its header or checksum does not match or it cannot be decoded."""
  blob = pathlib.Path(path).read_bytes()
  digest_end = len(MAGIC) + 32
  payload = blob[digest_end:]
  if not blob.startswith(MAGIC) or hashlib.sha256(payload).digest() != blob[len(MAGIC):digest_end]:
    raise CorruptCheckpoint(f'checkpoint {path} is corrupt or cut short (checksum mismatch)')
  try:
    return serialization.msgpack_restore(payload)
  except Exception as e:  # a checksum-valid file of another format or version
    raise CorruptCheckpoint(f'checkpoint {path} cannot be decoded: {e}') from e


def load_latest(directory):
  """``(step, tree)`` of the newest readable checkpoint in ``directory``, or ``(None,
  None)`` when there is none. An unreadable one is skipped for the one before it, with a
  warning naming it, never silently."""
  for step in reversed(steps(directory)):
    path = path_of(directory, step)
    try:
      return step, load(path)
    except (OSError, ValueError) as e:
      logging.warning('skipping checkpoint %s, which cannot be read (%s); trying the one '
                      'before it', path, e)
  return None, None
