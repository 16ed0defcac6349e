"""TensorBoard event files (scalars) written without TensorFlow: TFRecord framing of
``Event`` protobufs (wall_time 1, step 2, file_version 3, summary 5; a summary value has
tag 1 and simple_value 2)."""

import pathlib
import socket
import time

from bananas_jax.io import protobuf, tfrecord


class EventWriter:
  """Appends scalar events to ``<logdir>/events.out.tfevents.<time>.<host>``."""

  def __init__(self, logdir):
    logdir = pathlib.Path(logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    self.path = logdir / f'events.out.tfevents.{int(time.time())}.{socket.gethostname()}'
    self._file = open(self.path, 'ab')
    self._write(protobuf.bytes_field(3, b'brain.Event:2'), step=0)

  def _write(self, body, step):
    event = protobuf.double_field(1, time.time()) + protobuf.varint_field(2, step) + body
    self._file.write(tfrecord.frame(event))

  def scalar(self, tag: str, value: float, step: int) -> None:
    value_message = protobuf.bytes_field(1, tag.encode()) + protobuf.float_field(2, value)
    self._write(protobuf.bytes_field(5, protobuf.bytes_field(1, value_message)), step)

  def flush(self):
    self._file.flush()

  def close(self):
    self._file.close()


def read_scalars(path):
  """``[(tag, step, value)]`` of an event file: to check what was written."""
  scalars = []
  for _, payload in tfrecord.read(path):
    event = protobuf.decode(payload)
    for summary in event.get(5, []):
      for value in protobuf.decode(summary).get(1, []):
        fields = protobuf.decode(value)
        scalars.append((fields[1][0].decode(), event.get(2, [0])[0],
                        protobuf.single(fields[2][0])))
  return scalars
