"""The protobuf wire format, just enough to read and write known messages without the
generated classes: a message is decoded into ``{field number: [raw values]}``."""

import struct

VARINT, I64, LEN, I32 = 0, 1, 2, 5


class DecodeError(ValueError):
  pass


def _read_varint(data, pos):
  value = shift = 0
  while True:
    if pos >= len(data):
      raise DecodeError('message ends inside a varint')
    byte = data[pos]
    pos += 1
    value |= (byte & 0x7F) << shift
    if byte < 0x80:
      return value, pos
    shift += 7


def decode(data: bytes) -> dict[int, list]:
  """Fields of one message: varints as ints, 64/32-bit fields and length-delimited
  fields (strings, bytes, sub-messages) as bytes."""
  fields = {}
  pos = 0
  while pos < len(data):
    tag, pos = _read_varint(data, pos)
    number, wire = tag >> 3, tag & 7
    if wire == VARINT:
      value, pos = _read_varint(data, pos)
    elif wire in (I64, I32):
      size = 8 if wire == I64 else 4
      value, pos = data[pos:pos + size], pos + size
    elif wire == LEN:
      size, pos = _read_varint(data, pos)
      value, pos = data[pos:pos + size], pos + size
    else:
      raise DecodeError(f'unsupported wire type {wire} (field {number})')
    if pos > len(data):
      raise DecodeError(f'field {number} runs past the end of the message')
    fields.setdefault(number, []).append(value)
  return fields


def double(raw: bytes) -> float:
  return struct.unpack('<d', raw)[0]


def single(raw: bytes) -> float:
  return struct.unpack('<f', raw)[0]


def _varint(value):
  out = bytearray()
  while True:
    byte, value = value & 0x7F, value >> 7
    out.append(byte | (0x80 if value else 0))
    if not value:
      return bytes(out)


def varint_field(number: int, value: int) -> bytes:
  return _varint(number << 3 | VARINT) + _varint(value)


def double_field(number: int, value: float) -> bytes:
  return _varint(number << 3 | I64) + struct.pack('<d', value)


def float_field(number: int, value: float) -> bytes:
  return _varint(number << 3 | I32) + struct.pack('<f', value)


def bytes_field(number: int, value: bytes) -> bytes:
  """A string, bytes or an encoded sub-message."""
  return _varint(number << 3 | LEN) + _varint(len(value)) + value
