"""Reading and writing whole bundles: the index (an SSTable of ``BundleEntryProto``) and the
raw data shards. Every problem is reported with the file it concerns."""
from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mtdnn_convert.errors import ConversionError
from mtdnn_convert.tf_bundle.checksum import fast, masked_crc32c
from mtdnn_convert.tf_bundle.dtypes import TF_TO_TORCH, TORCH_TO_TF, tf_dtype_name
from mtdnn_convert.tf_bundle.messages import LITTLE_ENDIAN, TENSOR_BUNDLE_VERSION, BundleEntry, BundleHeader
from mtdnn_convert.tf_bundle.protowire import WireError
from mtdnn_convert.tf_bundle.sstable import TableError, TableWriter, read_table

HEADER_KEY = b""


def shard_path(prefix: str | Path, shard: int, num_shards: int) -> Path:
    return Path(f"{prefix}.data-{shard:05d}-of-{num_shards:05d}")


def index_path(prefix: str | Path) -> Path:
    return Path(f"{prefix}.index")


@dataclass(frozen=True)
class TensorInfo:
    """What the index says about one tensor."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    entry: BundleEntry


class BundleReader:
    """The tensors of one checkpoint (``prefix`` = path without ``.index``), read lazily.

    Opening it reads and checks the index: header, entries, and that every data shard exists
    and is long enough for the tensors it should hold, so a truncated download is reported
    before anything is converted.
    """

    def __init__(self, prefix: str | Path, verify_checksums: bool = True):
        self.prefix = Path(prefix)
        self.index_file = index_path(prefix)
        self.verify_checksums = verify_checksums and fast()
        if not self.index_file.is_file():
            raise ConversionError(f"{self.index_file}: no such file (a TensorFlow checkpoint is PREFIX.index + PREFIX.data-*)")
        self.header, self.entries = self._read_index()
        self._check_shards()

    def _read_index(self) -> tuple[BundleHeader, dict[str, BundleEntry]]:
        where = self.index_file
        header, entries = None, {}
        try:
            for key, value in read_table(self.index_file.read_bytes()):
                if key == HEADER_KEY:
                    header = BundleHeader.decode(value)
                    continue
                name = key.decode("utf-8")
                entries[name] = BundleEntry.decode(value)
        except (TableError, WireError) as exc:
            raise ConversionError(f"{where}: not a readable TensorFlow checkpoint index: {exc}") from None
        except UnicodeDecodeError:
            raise ConversionError(f"{where}: a tensor name is not UTF-8: the index is corrupt") from None
        if header is None:
            raise ConversionError(f"{where}: no bundle header (empty key): not a TensorFlow V2 checkpoint index")
        if header.endianness != LITTLE_ENDIAN:
            raise ConversionError(f"{where}: big-endian checkpoint; only little-endian checkpoints are supported")
        if header.min_consumer > TENSOR_BUNDLE_VERSION:
            raise ConversionError(f"{where}: written by a newer TensorFlow (needs bundle reader version "
                                  f">= {header.min_consumer}; this reader implements {TENSOR_BUNDLE_VERSION})")
        if header.num_shards < 1:
            raise ConversionError(f"{where}: header says {header.num_shards} data shards")
        return header, entries

    def _check_shards(self) -> None:
        problems = []
        needed: dict[int, int] = {}
        for name, entry in self.entries.items():
            if not 0 <= entry.shard_id < self.header.num_shards:
                problems.append(f"tensor '{name}' is in shard {entry.shard_id} of {self.header.num_shards}")
            needed[entry.shard_id] = max(needed.get(entry.shard_id, 0), entry.offset + entry.size)
        for shard in range(self.header.num_shards):
            path = shard_path(self.prefix, shard, self.header.num_shards)
            if not path.is_file():
                problems.append(f"{path}: missing data shard")
            elif path.stat().st_size < needed.get(shard, 0):
                problems.append(f"{path}: truncated: {path.stat().st_size} bytes, the index needs {needed[shard]} "
                                f"(an incomplete download or copy)")
        if problems:
            raise ConversionError(f"{self.index_file}: the checkpoint's data is incomplete:\n" +
                                  "\n".join(f"  - {p}" for p in problems))

    def names(self) -> list[str]:
        return sorted(self.entries)

    def info(self, name: str) -> TensorInfo:
        entry = self.entries[name]
        return TensorInfo(name, tf_dtype_name(entry.dtype), entry.shape, entry)

    def read(self, name: str) -> torch.Tensor:
        """One tensor, as stored (no copy beyond the file read), its checksum verified."""
        entry = self.entries[name]
        where = f"{self.index_file}: tensor '{name}'"
        if entry.sliced:
            raise ConversionError(f"{where} is a partitioned variable (slices); re-save the checkpoint unpartitioned")
        dtype = TF_TO_TORCH.get(entry.dtype)
        if dtype is None:
            raise ConversionError(f"{where} has dtype {tf_dtype_name(entry.dtype)}, which cannot become a model weight")
        numel = int(np.prod(entry.shape, dtype=np.int64))
        expected = numel * torch.empty((), dtype=dtype).element_size()
        if entry.size != expected:
            raise ConversionError(f"{where}: the index gives {entry.size} bytes for shape {list(entry.shape)} "
                                  f"of {tf_dtype_name(entry.dtype)} ({expected} expected): the index is corrupt")
        path = shard_path(self.prefix, entry.shard_id, self.header.num_shards)
        with open(path, "rb") as handle:
            handle.seek(entry.offset)
            data = handle.read(entry.size)
        if len(data) != entry.size:
            raise ConversionError(f"{path}: truncated while reading tensor '{name}'")
        if self.verify_checksums and masked_crc32c(data) != entry.crc32c:
            raise ConversionError(f"{path}: checksum mismatch for tensor '{name}': the data file is corrupt")
        if numel == 0:
            return torch.empty(entry.shape, dtype=dtype)
        tensor = torch.frombuffer(bytearray(data), dtype=dtype).reshape(entry.shape)
        if sys.byteorder != "little" and tensor.element_size() > 1:  # pragma: no cover
            tensor = torch.from_numpy(tensor.numpy().byteswap())
        return tensor


def _tensor_bytes(value: torch.Tensor | np.ndarray) -> tuple[int, tuple[int, ...], bytes]:
    tensor = torch.as_tensor(value).detach().cpu().contiguous()
    if tensor.dtype not in TORCH_TO_TF:
        raise ValueError(f"dtype {tensor.dtype} cannot be written to a bundle")
    array = (tensor.view(torch.int16) if tensor.dtype in (torch.bfloat16, torch.float16) else tensor).numpy()
    if sys.byteorder != "little":  # bundles are little-endian
        array = array.byteswap()
    return TORCH_TO_TF[tensor.dtype], tuple(tensor.shape), array.tobytes()


def write_bundle(prefix: str | Path, tensors: Mapping[str, torch.Tensor | np.ndarray], block_size: int = 4096) -> list[Path]:
    """Write ``tensors`` as a single-shard TensorFlow V2 checkpoint (``PREFIX.index`` and
    ``PREFIX.data-00000-of-00001``), as ``tf.train.Saver`` lays it out. Returns the two paths."""
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    table = TableWriter(block_size=block_size)
    table.add(HEADER_KEY, BundleHeader(num_shards=1).encode())
    data_path = shard_path(prefix, 0, 1)
    tmp_data = data_path.with_name(data_path.name + ".tmp")
    offset = 0
    with open(tmp_data, "wb") as data:
        for name in sorted(tensors, key=lambda n: n.encode("utf-8")):
            dtype, shape, raw = _tensor_bytes(tensors[name])
            entry = BundleEntry(dtype=dtype, shape=shape, offset=offset, size=len(raw), crc32c=masked_crc32c(raw))
            table.add(name.encode("utf-8"), entry.encode())
            data.write(raw)
            offset += len(raw)
    os.replace(tmp_data, data_path)
    index = index_path(prefix)
    index.write_bytes(table.finish())
    return [index, data_path]
