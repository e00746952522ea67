"""``mtdnn squad download`` against a local HTTP server: checksums, pinning, resumed transfers."""
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main
from mtdnn_squad.download import SHA256


@pytest.fixture
def server(file_server):
    return file_server.root, file_server.url


def serve_v2(root: Path, sample: dict) -> dict[str, bytes]:
    files = {"train-v2.0.json": {"version": "v2.0", "data": sample["data"][:1]},
             "dev-v2.0.json": {"version": "v2.0", "data": sample["data"][4:]}}
    blobs = {name: json.dumps(data).encode() for name, data in files.items()}
    for name, blob in blobs.items():
        (root / name).write_bytes(blob)
    return blobs


def sums(blobs: dict[str, bytes], path: Path) -> Path:
    path.write_text("".join(f"{hashlib.sha256(b).hexdigest()}  {n}\n" for n, b in blobs.items()))
    return path


def test_download_verifies_and_reads_the_files(server, tmp_path, sample):
    root, url = server
    blobs = serve_v2(root, sample)
    target = tmp_path / "squad"
    result = CliRunner().invoke(main, ["squad", "download", "--version", "2.0", "--target", str(target), "--mirror", url,
                                       "--checksums", str(sums(blobs, tmp_path / "SUMS"))])
    assert result.exit_code == 0, result.output
    assert "train-v2.0.json: 208 questions, sha256 verified" in result.output  # the Normans article
    assert "dev-v2.0.json: 247 questions" in result.output  # the Victoria article
    assert (target / "dev-v2.0.json").read_bytes() == blobs["dev-v2.0.json"]


def test_the_official_checksums_are_pinned(server, tmp_path, sample):
    root, url = server
    serve_v2(root, sample)  # not the official files: a mirror cannot pass them off as such
    assert SHA256["dev-v2.0.json"].startswith("80a5225e")
    result = CliRunner().invoke(main, ["squad", "download", "--version", "2.0", "--target", str(tmp_path / "t"), "--mirror", url])
    assert result.exit_code == 2 and "train-v2.0.json: checksum mismatch (expected 68dcfbb971bd" in result.output
    assert not list((tmp_path / "t").glob("train-v2.0.json*"))  # the bad download is removed


def test_a_partial_download_resumes(server, tmp_path, sample, file_server):
    root, url = server
    blobs = serve_v2(root, sample)
    target = tmp_path / "squad"
    target.mkdir()
    (target / "dev-v2.0.json.part").write_bytes(blobs["dev-v2.0.json"][:1000])
    result = CliRunner().invoke(main, ["squad", "download", "--version", "2.0", "--target", str(target), "--mirror", url,
                                       "--checksums", str(sums(blobs, tmp_path / "SUMS"))])
    assert result.exit_code == 0, result.output
    assert ("/dev-v2.0.json", "bytes=1000-") in file_server.requests
    assert (target / "dev-v2.0.json").read_bytes() == blobs["dev-v2.0.json"]
