"""The protobuf wire format, by hand: the bundle's two small messages do not justify generated
code or a dependency on the ``protobuf`` package."""
from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


class WireError(ValueError):
    """Bytes that are not a valid protobuf message or varint."""


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a base-128 varint at ``pos``; return ``(value, position after it)``."""
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("varint runs past the end of the data")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint longer than 10 bytes")


def encode_varint(value: int) -> bytes:
    """Encode a non-negative integer (negative int64 values as their 64-bit two's complement)."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def as_int64(value: int) -> int:
    """Reinterpret a decoded varint as a signed 64-bit integer."""
    return value - (1 << 64) if value >= 1 << 63 else value


def iter_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field number, wire type, value)``: ints for varint/fixed fields, bytes for
    length-delimited ones. Groups (wire types 3 and 4) do not occur in the bundle protos."""
    pos = 0
    while pos < len(buf):
        tag, pos = read_varint(buf, pos)
        number, wire_type = tag >> 3, tag & 7
        if number == 0:
            raise WireError("field number 0")
        if wire_type == VARINT:
            value, pos = read_varint(buf, pos)
        elif wire_type == FIXED64:
            if pos + 8 > len(buf):
                raise WireError("fixed64 field runs past the end of the data")
            value = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wire_type == LENGTH_DELIMITED:
            length, pos = read_varint(buf, pos)
            if pos + length > len(buf):
                raise WireError("length-delimited field runs past the end of the data")
            value = bytes(buf[pos : pos + length])
            pos += length
        elif wire_type == FIXED32:
            if pos + 4 > len(buf):
                raise WireError("fixed32 field runs past the end of the data")
            value = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise WireError(f"unsupported wire type {wire_type} (field {number})")
        yield number, wire_type, value


def varint_field(number: int, value: int) -> bytes:
    return encode_varint(number << 3 | VARINT) + encode_varint(value)


def bytes_field(number: int, value: bytes) -> bytes:
    return encode_varint(number << 3 | LENGTH_DELIMITED) + encode_varint(len(value)) + value


def fixed32_field(number: int, value: int) -> bytes:
    return encode_varint(number << 3 | FIXED32) + struct.pack("<I", value)
