"""CIFAR-10 in memory from the standard python version, and augmentation on device.

Users bring ``cifar-10-python.tar.gz`` (or its extracted ``cifar-10-batches-py``
directory); nothing is downloaded. Augmentation (random crop with 4-pixel padding,
horizontal flip, cutout) runs inside jit on uint8 batches.
"""

import pathlib
import pickle
import tarfile

import jax
import jax.numpy as jnp
import numpy as np

ARCHIVE = 'cifar-10-python.tar.gz'
FOLDER = 'cifar-10-batches-py'
TRAIN_FILES = tuple(f'data_batch_{i}' for i in range(1, 6))
TEST_FILE = 'test_batch'
MEAN = np.array([0.49139968, 0.48215827, 0.44653124], np.float32)
STD = np.array([0.24703233, 0.24348505, 0.26158768], np.float32)


def _decode(blob, name, where):
  try:
    batch = pickle.loads(blob, encoding='bytes')
    images = np.asarray(batch[b'data'], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    labels = np.asarray(batch[b'labels'], np.int32)
  except (pickle.UnpicklingError, KeyError, ValueError, TypeError, EOFError) as e:
    raise ValueError(f'{where}: {name} is not a CIFAR-10 python batch ({e!r})') from None
  if len(images) != len(labels):
    raise ValueError(f'{where}: {name} has {len(images)} images and {len(labels)} labels')
  return images, labels


def _read_batches(data_dir):
  """``{file name: bytes}`` of the six batch files, from a folder or the archive."""
  data_dir = pathlib.Path(data_dir)
  names = TRAIN_FILES + (TEST_FILE,)
  for folder in (data_dir, data_dir / FOLDER):
    if all((folder / n).is_file() for n in names):
      return {n: (folder / n).read_bytes() for n in names}, folder
  for archive in (data_dir, data_dir / ARCHIVE):
    if archive.is_file() and archive.name.endswith(('.tar.gz', '.tgz', '.tar')):
      try:
        with tarfile.open(archive) as tar:
          blobs = {pathlib.PurePath(m.name).name: tar.extractfile(m).read()
                   for m in tar.getmembers()
                   if m.isfile() and pathlib.PurePath(m.name).name in names}
      except (tarfile.TarError, OSError, EOFError) as e:
        raise ValueError(f'cannot read CIFAR-10 archive {archive}: {e}') from None
      missing = [n for n in names if n not in blobs]
      if missing:
        raise ValueError(f'CIFAR-10 archive {archive} lacks {", ".join(missing)}')
      return blobs, archive
  raise FileNotFoundError(
      f'CIFAR-10 (python version) not found: needs {", ".join(names)} in {data_dir} or '
      f'{data_dir / FOLDER}, or the archive {ARCHIVE} (from the official CIFAR-10 page) at '
      f'{data_dir} or {data_dir / ARCHIVE}; pass --config.data_dir=PATH')


def load_cifar10(data_dir):
  """``{'train': (images, labels), 'test': (images, labels)}``, uint8 NHWC and int32."""
  blobs, where = _read_batches(data_dir)
  train = [_decode(blobs[n], n, where) for n in TRAIN_FILES]
  test = _decode(blobs[TEST_FILE], TEST_FILE, where)
  return {'train': (np.concatenate([t[0] for t in train]), np.concatenate([t[1] for t in train])),
          'test': test}


def split(images, labels, train_portion):
  """The first ``train_portion`` of the training set for training, the rest for validation
  (as DARTS and BANANAS split it for the search proxy)."""
  if not 0 < train_portion <= 1:
    raise ValueError(f'train_portion must be in (0, 1], got {train_portion}')
  n = int(round(train_portion * len(images)))
  return (images[:n], labels[:n]), (images[n:], labels[n:])


def normalize(images):
  return (images.astype(jnp.float32) / 255.0 - MEAN) / STD


def augment(key, images, cutout=16, pad=4):
  """Random crop (zero padding ``pad``), horizontal flip and cutout, then normalization."""
  batch, height, width, _ = images.shape
  crop_key, flip_key, cut_key = jax.random.split(key, 3)
  x = normalize(images)
  padded = jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
  corners = jax.random.randint(crop_key, (batch, 2), 0, 2 * pad + 1)
  crop = lambda img, corner: jax.lax.dynamic_slice(img, (corner[0], corner[1], 0),
                                                   (height, width, img.shape[-1]))
  x = jax.vmap(crop)(padded, corners)
  flip = jax.random.bernoulli(flip_key, 0.5, (batch, 1, 1, 1))
  x = jnp.where(flip, x[:, :, ::-1], x)
  # Cutout: a square of side ``cutout`` (none for 0; may be traced) centred anywhere,
  # clipped at the borders.
  centre = jax.random.randint(cut_key, (batch, 2), 0, jnp.array([height, width]))
  inside = lambda size, c: ((jnp.arange(size)[None] >= c - cutout // 2) &
                            (jnp.arange(size)[None] < c + cutout - cutout // 2))
  hole = (inside(height, centre[:, :1])[:, :, None] &
          inside(width, centre[:, 1:])[:, None, :])[..., None]
  return jnp.where(hole, 0.0, x)
