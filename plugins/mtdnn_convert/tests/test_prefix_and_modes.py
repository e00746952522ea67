"""``convert tf-bert`` takes the checkpoint prefix Google's releases name (``DIR/bert_model.ckpt``),
and every output gets the permissions a plain ``mkdir``/``open`` would give under the umask."""
import os
import stat
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY = FIXTURES / "tiny_tf_bert"


@contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_checkpoint_prefix_converts_like_its_directory(tmp_path):
    assert not (TINY / "bert_model.ckpt").exists() and (TINY / "bert_model.ckpt.index").is_file()
    result = CliRunner().invoke(main, ["convert", "tf-bert", str(TINY / "bert_model.ckpt"), str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert "converted 46 tensors as BertForPreTraining" in result.output
    result = CliRunner().invoke(main, ["convert", "tf-bert", str(TINY), str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    for name in ("model.safetensors", "config.json", "vocab.txt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_a_prefix_without_an_index_file_is_an_error_naming_it(tmp_path):
    result = CliRunner().invoke(main, ["convert", "tf-bert", str(TINY / "model.ckpt-5"), str(tmp_path / "out")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert f"{TINY / 'model.ckpt-5'}: no such checkpoint" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("mask,dir_mode,file_mode", [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640)])
def test_convert_output_follows_the_umask(tmp_path, mask, dir_mode, file_mode):
    with umask(mask):
        result = CliRunner().invoke(main, ["convert", "tf-bert", str(TINY), str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert mode(tmp_path / "out") == dir_mode
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert files and {p.name: mode(p) for p in files} == {p.name: file_mode for p in files}


def test_export_output_follows_the_umask(trained_run, tmp_path):
    with umask(0o022):
        result = CliRunner().invoke(main, ["export", str(trained_run), "--task", "rte", str(tmp_path / "rte")])
    assert result.exit_code == 0, result.output
    assert mode(tmp_path / "rte") == 0o755
    assert all(mode(p) == 0o644 for p in (tmp_path / "rte").rglob("*") if p.is_file())


@pytest.mark.parametrize("mask,file_mode", [(0o022, 0o644), (0o077, 0o600)])
def test_extract_npy_follows_the_umask(tmp_path, mask, file_mode):
    (tmp_path / "in.txt").write_text("a short line\nanother one\n")
    with umask(mask):
        result = CliRunner().invoke(main, ["extract", "--no-progress", "--encoder", "tiny-random-bert", "--input",
                                           str(tmp_path / "in.txt"), "--output", str(tmp_path / "o.npy")])
    assert result.exit_code == 0, result.output
    assert mode(tmp_path / "o.npy") == file_mode and np.load(tmp_path / "o.npy").shape[0] == 2
