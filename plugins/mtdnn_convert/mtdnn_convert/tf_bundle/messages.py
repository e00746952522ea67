"""The bundle's protobuf messages (``tensorflow/core/protobuf/tensor_bundle.proto``)::

    message BundleHeaderProto { int32 num_shards = 1; Endianness endianness = 2; VersionDef version = 3; }
    message BundleEntryProto  { DataType dtype = 1; TensorShapeProto shape = 2; int32 shard_id = 3;
                                int64 offset = 4; int64 size = 5; fixed32 crc32c = 6;
                                repeated TensorSliceProto slices = 7; }
    message TensorShapeProto  { repeated Dim dim = 2; bool unknown_rank = 3; }   Dim { int64 size = 1; }
    message VersionDef        { int32 producer = 1; int32 min_consumer = 2; repeated int32 bad_consumers = 3; }

Proto3 leaves zero values out, and so does the encoder here.
"""
from __future__ import annotations

from dataclasses import dataclass

from mtdnn_convert.tf_bundle.protowire import (
    LENGTH_DELIMITED,
    WireError,
    as_int64,
    bytes_field,
    fixed32_field,
    iter_fields,
    varint_field,
)

LITTLE_ENDIAN, BIG_ENDIAN = 0, 1
TENSOR_BUNDLE_VERSION = 1  # kTensorBundleVersion: what TensorFlow writes and reads


@dataclass(frozen=True)
class BundleHeader:
    num_shards: int = 1
    endianness: int = LITTLE_ENDIAN
    producer: int = TENSOR_BUNDLE_VERSION
    min_consumer: int = 0

    def encode(self) -> bytes:
        version = varint_field(1, self.producer) if self.producer else b""
        if self.min_consumer:
            version += varint_field(2, self.min_consumer)
        out = varint_field(1, self.num_shards) if self.num_shards else b""
        if self.endianness:
            out += varint_field(2, self.endianness)
        return out + bytes_field(3, version)

    @classmethod
    def decode(cls, buf: bytes) -> BundleHeader:
        values = {"num_shards": 0, "endianness": LITTLE_ENDIAN, "producer": 0, "min_consumer": 0}
        for number, _, value in iter_fields(buf):
            if number == 1:
                values["num_shards"] = as_int64(value)
            elif number == 2:
                values["endianness"] = value
            elif number == 3:
                for vnumber, _, vvalue in iter_fields(_message(value)):
                    if vnumber == 1:
                        values["producer"] = as_int64(vvalue)
                    elif vnumber == 2:
                        values["min_consumer"] = as_int64(vvalue)
        return cls(**values)


@dataclass(frozen=True)
class BundleEntry:
    dtype: int
    shape: tuple[int, ...]
    shard_id: int = 0
    offset: int = 0
    size: int = 0
    crc32c: int = 0
    sliced: bool = False  # a partitioned variable (TensorSliceProto records): not supported

    def encode(self) -> bytes:
        dims = b"".join(bytes_field(2, varint_field(1, d) if d else b"") for d in self.shape)
        out = varint_field(1, self.dtype) + bytes_field(2, dims)
        for number, value in ((3, self.shard_id), (4, self.offset), (5, self.size)):
            if value:
                out += varint_field(number, value)
        return out + fixed32_field(6, self.crc32c)

    @classmethod
    def decode(cls, buf: bytes) -> BundleEntry:
        values: dict = {"dtype": 0, "shape": (), "shard_id": 0, "offset": 0, "size": 0, "crc32c": 0, "sliced": False}
        for number, _, value in iter_fields(buf):
            if number == 1:
                values["dtype"] = value
            elif number == 2:
                values["shape"] = _decode_shape(_message(value))
            elif number == 3:
                values["shard_id"] = as_int64(value)
            elif number == 4:
                values["offset"] = as_int64(value)
            elif number == 5:
                values["size"] = as_int64(value)
            elif number == 6:
                values["crc32c"] = value
            elif number == 7:
                values["sliced"] = True
        return cls(**values)


def _message(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise WireError(f"expected an embedded message (wire type {LENGTH_DELIMITED}), got a number")
    return value


def _decode_shape(buf: bytes) -> tuple[int, ...]:
    dims = []
    for number, _, value in iter_fields(buf):
        if number == 2:
            size = 0
            for dnumber, _, dvalue in iter_fields(_message(value)):
                if dnumber == 1:
                    size = as_int64(dvalue)
            dims.append(size)
        elif number == 3 and value:
            raise WireError("tensor of unknown rank")
    return tuple(dims)
