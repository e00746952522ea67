"""LevelDB-style sorted string tables, the container of a bundle's ``.index`` file.

Layout (LevelDB ``table_format.md``; TensorFlow's ``core/lib/io/table``)::

    data block*  metaindex block  index block  footer(48 bytes)

Each block holds entries ``varint shared | varint non_shared | varint value_len | key delta |
value`` where a key shares its first ``shared`` bytes with the previous key (prefix
compression), then ``uint32 restart offsets[] | uint32 count``: at each restart point a key is
stored whole. A 5-byte trailer follows each block: compression type (0 = none) and the masked
CRC-32C of block + type byte. The index block maps a key >= every key of a data block to that
block's handle (varint offset, varint size). The footer holds the metaindex and index handles,
zero padding to 40 bytes and the magic number.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator

from mtdnn_convert.tf_bundle.checksum import masked_crc32c
from mtdnn_convert.tf_bundle.protowire import WireError, encode_varint, read_varint

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
TRAILER_SIZE = 5
NO_COMPRESSION = 0
COMPRESSION_NAMES = {1: "snappy", 2: "zlib"}


class TableError(ValueError):
    """An index file that is not a valid table (truncated, corrupt or compressed)."""


def _handle(buf: bytes, pos: int) -> tuple[int, int, int]:
    offset, pos = read_varint(buf, pos)
    size, pos = read_varint(buf, pos)
    return offset, size, pos


def _block(data: bytes, offset: int, size: int, verify: bool) -> bytes:
    end = offset + size + TRAILER_SIZE
    if offset < 0 or end > len(data):
        raise TableError(f"block at byte {offset} (size {size}) runs past the end of the file ({len(data)} bytes)")
    block = data[offset : offset + size]
    kind = data[offset + size]
    if kind != NO_COMPRESSION:
        raise TableError(f"block at byte {offset} is {COMPRESSION_NAMES.get(kind, f'type-{kind}')}-compressed; "
                         f"only uncompressed tables (what TensorFlow writes for checkpoints) are supported")
    if verify:
        stored = struct.unpack_from("<I", data, offset + size + 1)[0]
        if masked_crc32c(data[offset : offset + size + 1]) != stored:
            raise TableError(f"checksum mismatch in the block at byte {offset}: the file is corrupt")
    return block


def iter_block(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Entries of one block, keys restored from their shared prefixes."""
    if len(block) < 4:
        raise TableError("block shorter than its restart count")
    count = struct.unpack_from("<I", block, len(block) - 4)[0]
    limit = len(block) - 4 - 4 * count
    if count < 1 or limit < 0:
        raise TableError(f"block with an impossible restart count ({count})")
    restarts = struct.unpack_from(f"<{count}I", block, limit)
    if any(r > limit for r in restarts):
        raise TableError("restart point beyond the block's entries")
    pos, key = 0, b""
    restart_set = set(restarts)
    try:
        while pos < limit:
            at = pos
            shared, pos = read_varint(block, pos)
            non_shared, pos = read_varint(block, pos)
            value_len, pos = read_varint(block, pos)
            if at in restart_set and shared:
                raise TableError(f"entry at restart point {at} shares {shared} bytes with a previous key")
            if shared > len(key) or pos + non_shared + value_len > limit:
                raise TableError(f"entry at byte {at} of a block runs past its end")
            key = key[:shared] + block[pos : pos + non_shared]
            pos += non_shared
            yield key, block[pos : pos + value_len]
            pos += value_len
    except WireError as exc:
        raise TableError(f"bad varint in a block: {exc}") from None


def read_table(data: bytes, verify: bool = True) -> Iterator[tuple[bytes, bytes]]:
    """All ``(key, value)`` pairs of a table, in key order."""
    if len(data) < FOOTER_SIZE:
        raise TableError(f"{len(data)} bytes: too short to be a table (the footer alone is {FOOTER_SIZE})")
    footer = data[-FOOTER_SIZE:]
    if struct.unpack_from("<Q", footer, 40)[0] != MAGIC:
        raise TableError("no table magic number at the end: not a checkpoint index, or truncated")
    try:
        _, _, pos = _handle(footer, 0)
        index_offset, index_size, _ = _handle(footer, pos)
    except WireError as exc:
        raise TableError(f"bad footer: {exc}") from None
    index = _block(data, index_offset, index_size, verify)
    previous = None
    for _, handle in iter_block(index):
        try:
            offset, size, _ = _handle(handle, 0)
        except WireError as exc:
            raise TableError(f"bad block handle in the index: {exc}") from None
        for key, value in iter_block(_block(data, offset, size, verify)):
            if previous is not None and key <= previous:
                raise TableError(f"keys out of order ({previous!r} then {key!r})")
            previous = key
            yield key, value


class BlockBuilder:
    """Builds one block with prefix-compressed keys and a restart point every ``interval`` keys."""

    def __init__(self, interval: int):
        self.interval = interval
        self.reset()

    def reset(self) -> None:
        self.buffer = bytearray()
        self.restarts = [0]
        self.counter = 0
        self.last_key = b""

    @property
    def empty(self) -> bool:
        return not self.buffer

    def size(self) -> int:
        return len(self.buffer) + 4 * len(self.restarts) + 4

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.counter < self.interval:
            limit = min(len(key), len(self.last_key))
            while shared < limit and key[shared] == self.last_key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buffer))
            self.counter = 0
        self.buffer += encode_varint(shared) + encode_varint(len(key) - shared) + encode_varint(len(value))
        self.buffer += key[shared:] + value
        self.last_key = key
        self.counter += 1

    def finish(self) -> bytes:
        return bytes(self.buffer) + struct.pack(f"<{len(self.restarts)}I", *self.restarts) + struct.pack("<I", len(self.restarts))


class TableWriter:
    """Writes a table: keys must come in strictly increasing byte order."""

    def __init__(self, block_size: int = 4096, restart_interval: int = 16):
        self.block_size = block_size
        self.out = bytearray()
        self.data = BlockBuilder(restart_interval)
        self.index = BlockBuilder(1)
        self.last_key: bytes | None = None

    def add(self, key: bytes, value: bytes) -> None:
        if self.last_key is not None and key <= self.last_key:
            raise ValueError(f"keys must be added in increasing order ({self.last_key!r} then {key!r})")
        self.data.add(key, value)
        self.last_key = key
        if self.data.size() >= self.block_size:
            self._flush()

    def _write_block(self, block: bytes) -> bytes:
        offset = len(self.out)
        self.out += block + bytes([NO_COMPRESSION])
        self.out += struct.pack("<I", masked_crc32c(block + bytes([NO_COMPRESSION])))
        return encode_varint(offset) + encode_varint(len(block))

    def _flush(self) -> None:
        if self.data.empty:
            return
        handle = self._write_block(self.data.finish())
        self.index.add(self.data.last_key, handle)  # the block's last key separates it from the next
        self.data.reset()

    def finish(self) -> bytes:
        self._flush()
        metaindex = self._write_block(BlockBuilder(1).finish())
        index = self._write_block(self.index.finish())
        footer = (metaindex + index).ljust(FOOTER_SIZE - 8, b"\0") + struct.pack("<Q", MAGIC)
        return bytes(self.out + footer)
