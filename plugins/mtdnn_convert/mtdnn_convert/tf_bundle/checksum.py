"""CRC-32C (Castagnoli) as LevelDB and TensorFlow store it: "masked", so that a checksum of
data that itself holds checksums stays well distributed."""
from __future__ import annotations

import google_crc32c

MASK_DELTA = 0xA282EAD8


def crc32c(data: bytes | memoryview, crc: int = 0) -> int:
    """Plain CRC-32C of ``data``, optionally continuing from ``crc``."""
    return google_crc32c.extend(crc, bytes(data)) if crc else google_crc32c.value(bytes(data))


def mask(crc: int) -> int:
    """Rotate right by 15 bits and add a constant (``crc32c::Mask``)."""
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & 0xFFFFFFFF


def masked_crc32c(data: bytes | memoryview) -> int:
    return mask(crc32c(data))


def fast() -> bool:
    """True when the C implementation is present (checksumming gigabytes in pure Python is too slow)."""
    return google_crc32c.implementation == "c"
