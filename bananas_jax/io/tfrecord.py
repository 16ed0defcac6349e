"""TFRecord framing: per record a little-endian uint64 length, the masked CRC32C of those 8
bytes, the payload, and the masked CRC32C of the payload."""

import struct
from collections.abc import Iterator

import google_crc32c

_HEADER = struct.Struct('<QI')
_FOOTER = struct.Struct('<I')


def masked_crc(data: bytes) -> int:
  crc = google_crc32c.value(data)
  return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(payload: bytes) -> bytes:
  """One record as written to a file."""
  length = struct.pack('<Q', len(payload))
  return (length + _FOOTER.pack(masked_crc(length)) + payload +
          _FOOTER.pack(masked_crc(payload)))


class RecordError(ValueError):
  """A damaged TFRecord file; the message names the file and the record's byte offset."""


def read(path) -> Iterator[tuple[int, bytes]]:
  """Yields ``(byte offset, payload)`` of every record, checking both CRCs."""
  with open(path, 'rb') as f:
    offset = 0
    while True:
      header = f.read(_HEADER.size)
      if not header:
        return
      if len(header) < _HEADER.size:
        raise RecordError(f'{path}: truncated record header at byte {offset}')
      length, length_crc = _HEADER.unpack(header)
      if masked_crc(header[:8]) != length_crc:
        raise RecordError(f'{path}: bad length CRC at byte {offset} (not a TFRecord file, '
                          f'or damaged)')
      payload = f.read(length)
      footer = f.read(_FOOTER.size)
      if len(payload) < length or len(footer) < _FOOTER.size:
        raise RecordError(f'{path}: truncated record at byte {offset} ({length} bytes '
                          f'announced)')
      if masked_crc(payload) != _FOOTER.unpack(footer)[0]:
        raise RecordError(f'{path}: bad payload CRC in the record at byte {offset}')
      yield offset, payload
      offset += _HEADER.size + length + _FOOTER.size


def write(path, payloads) -> None:
  with open(path, 'wb') as f:
    for payload in payloads:
      f.write(frame(payload))
