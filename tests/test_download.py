"""The core's downloader (``mtdnn_core.api.fetch``/``safe_extract``), against a local HTTP server."""
import hashlib
import io
import zipfile

import pytest

from mtdnn_core.api import DataError, fetch, read_checksums, safe_extract

DATA = bytes(range(256)) * 1000  # 256 000 bytes, several transfer chunks


def test_a_partial_download_resumes_with_a_range_request(file_server, tmp_path):
    (file_server.root / "big.bin").write_bytes(DATA)
    target = tmp_path / "big.bin"
    (tmp_path / "big.bin.part").write_bytes(DATA[:1000])
    fetch(f"{file_server.url}/big.bin", target, hashlib.sha256(DATA).hexdigest())
    assert target.read_bytes() == DATA and not (tmp_path / "big.bin.part").exists()
    assert file_server.requests == [("/big.bin", "bytes=1000-")]


def test_a_stale_partial_download_longer_than_the_file_starts_again(file_server, tmp_path):
    (file_server.root / "small.bin").write_bytes(DATA[:500])
    (tmp_path / "small.bin.part").write_bytes(DATA)
    said = []
    fetch(f"{file_server.url}/small.bin", tmp_path / "small.bin", log=said.append)
    assert (tmp_path / "small.bin").read_bytes() == DATA[:500]
    assert file_server.requests[-1] == ("/small.bin", None) and "HTTP 416" in said[0]


def test_a_checksum_mismatch_removes_the_download(file_server, tmp_path):
    (file_server.root / "f.bin").write_bytes(DATA)
    with pytest.raises(DataError, match="f.bin: checksum mismatch"):
        fetch(f"{file_server.url}/f.bin", tmp_path / "dl" / "f.bin", "0" * 64)
    assert list((tmp_path / "dl").iterdir()) == []


def test_checksums_read_as_sha256sum_writes_them():
    digest = hashlib.sha256(b"x").hexdigest()
    assert read_checksums(f"{digest}  a.zip\n{digest.upper()} *b.zip\nnot a line\n") == {"a.zip": digest, "b.zip": digest}


def test_an_archive_member_leaving_the_destination_is_refused_and_nothing_extracted(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ok.txt", "fine")
        archive.writestr("../evil.txt", "owned")
    (tmp_path / "a.zip").write_bytes(buffer.getvalue())
    with pytest.raises(DataError, match="refusing to extract '../evil.txt'"):
        safe_extract(tmp_path / "a.zip", tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out").exists()
