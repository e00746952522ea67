"""The checkpoint bundle format: wire encoding and checksums against published values, the
reader against a checkpoint TensorFlow itself wrote, the writer against the reader."""
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from mtdnn_convert.errors import ConversionError
from mtdnn_convert.tf_bundle import BundleReader, write_bundle
from mtdnn_convert.tf_bundle.checksum import crc32c, mask
from mtdnn_convert.tf_bundle.protowire import encode_varint, iter_fields, read_varint
from mtdnn_convert.tf_bundle.sstable import iter_block

TF_WRITTEN = Path(__file__).resolve().parent / "fixtures" / "tf_written" / "bert_model.ckpt"


def test_varints_match_the_protobuf_documentation():
    assert encode_varint(1) == b"\x01" and encode_varint(300) == b"\xac\x02"
    assert read_varint(b"\xac\x02", 0) == (300, 2)
    assert list(iter_fields(b"\x08\x96\x01")) == [(1, 0, 150)]  # the docs' "field 1 = 150"
    assert encode_varint(-1) == b"\xff" * 9 + b"\x01"  # int64 -1: ten bytes


def test_crc32c_check_value_and_leveldb_mask():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C catalogue's check value
    assert mask(0) == 0xA282EAD8
    crc = 0x12345678
    assert mask(crc) == ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def test_block_keys_are_restored_from_shared_prefixes():
    # LevelDB block, by hand: "apple"->"1" stored whole, "apply"->"2" sharing 4 bytes, one restart at 0
    entries = bytes([0, 5, 1]) + b"apple1" + bytes([4, 1, 1]) + b"y2"
    block = entries + struct.pack("<II", 0, 1)
    assert list(iter_block(block)) == [(b"apple", b"1"), (b"apply", b"2")]


def test_reads_a_checkpoint_written_by_tensorflow():
    reader = BundleReader(TF_WRITTEN)
    assert reader.verify_checksums
    weights = [n for n in reader.names() if not n.endswith("/adam_m") and n != "global_step"]
    assert len(weights) == 23 and len(reader.names()) == 2 * 23 + 1
    for name in weights:  # the fixture script's formula, recomputed here without TensorFlow
        tensor = reader.read(name)
        expected = 0.3 * np.random.default_rng(zlib.crc32(name.encode())).standard_normal(tuple(tensor.shape))
        np.testing.assert_array_equal(tensor.numpy(), expected.astype(np.float32))
    assert reader.read("global_step").item() == 7 and reader.read("global_step").dtype == torch.int64


def test_writer_round_trip_over_many_blocks_and_dtypes(tmp_path):
    generator = torch.Generator().manual_seed(0)
    tensors = {f"layer_{i}/kernel": torch.randn(3, i % 4, generator=generator) for i in range(40)}
    tensors.update({"step": torch.tensor(5), "half": torch.randn(4).half(), "bf16": torch.randn(3).bfloat16(),
                    "f64": torch.randn(2, 2, dtype=torch.float64), "flag": torch.tensor([True, False])})
    write_bundle(tmp_path / "m.ckpt", tensors, block_size=128)
    reader = BundleReader(tmp_path / "m.ckpt")
    assert reader.names() == sorted(tensors)
    for name, value in tensors.items():
        assert torch.equal(reader.read(name), value), name


def test_corruption_is_reported_with_the_file(tmp_path):
    prefix = tmp_path / "bert_model.ckpt"
    for path in TF_WRITTEN.parent.glob("bert_model.ckpt.*"):
        shutil.copy(path, tmp_path / path.name)
    index = bytearray((tmp_path / "bert_model.ckpt.index").read_bytes())
    index[10] ^= 0xFF
    (tmp_path / "bert_model.ckpt.index").write_bytes(bytes(index))
    with pytest.raises(ConversionError, match=r"bert_model.ckpt.index: .*(checksum|corrupt)"):
        BundleReader(prefix)
    shutil.copy(TF_WRITTEN.parent / "bert_model.ckpt.index", tmp_path)
    data = bytearray((tmp_path / "bert_model.ckpt.data-00000-of-00001").read_bytes())
    data[0] ^= 0xFF
    (tmp_path / "bert_model.ckpt.data-00000-of-00001").write_bytes(bytes(data))
    reader = BundleReader(prefix)
    first = min(reader.names(), key=lambda n: reader.entries[n].offset)
    with pytest.raises(ConversionError, match=f"checksum mismatch for tensor '{first}'"):
        reader.read(first)
