"""``mtdnn glue download`` into a relative --target, a stale partial download the server cannot
resume (HTTP 416), and a file that is not a zip archive."""
import hashlib
import io
import zipfile

from click.testing import CliRunner

from mtdnn_core.api import cli as main

TRAIN = "index\tsentence1\tsentence2\tlabel\n0\tA dog barks.\tAn animal barks.\tentailment\n"


def rte_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("RTE/train.tsv", TRAIN)
        archive.writestr("RTE/dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\tA cat.\tA cat runs.\tnot_entailment\n")
    return buffer.getvalue()


def download(target, url):
    return CliRunner().invoke(main, ["glue", "download", "--tasks", "rte", "--target", str(target), "--mirror", url])


def test_relative_target_is_under_the_working_directory(tmp_path, file_server, monkeypatch):
    data = rte_zip()
    (file_server.root / "RTE.zip").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    result = download("glue_data/", file_server.url)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "glue_data" / "RTE" / "train.tsv").read_text() == TRAIN
    assert (tmp_path / "glue_data" / "SHA256SUMS").read_text() == f"{hashlib.sha256(data).hexdigest()}  RTE.zip\n"
    assert "rte: 2 file(s)" in result.output


def test_a_stale_part_file_is_downloaded_again_from_the_start(tmp_path, file_server):
    data = rte_zip()
    (file_server.root / "RTE.zip").write_bytes(data)
    (file_server.root / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  RTE.zip\n")
    part = tmp_path / "glue" / ".downloads" / "RTE.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * (len(data) + 100))  # longer than the file served now: a range past its end
    result = download(tmp_path / "glue", file_server.url)
    assert result.exit_code == 0, result.output
    assert f"the server cannot resume after {len(data) + 100} bytes (HTTP 416" in result.output
    assert "downloading RTE.zip again from the start" in result.output
    assert [r for r in file_server.requests if r[0] == "/RTE.zip"] == [("/RTE.zip", f"bytes={len(data) + 100}-"),
                                                                      ("/RTE.zip", None)]
    assert (tmp_path / "glue" / ".downloads" / "RTE.zip").read_bytes() == data and not part.exists()
    assert (tmp_path / "glue" / "RTE" / "train.tsv").read_text() == TRAIN


def test_a_file_that_is_not_a_zip_archive_is_an_error_and_no_checksum_is_recorded(tmp_path, file_server):
    (file_server.root / "RTE.zip").write_bytes(b"<html>404 Not Found</html>")
    result = download(tmp_path / "glue", file_server.url)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "RTE.zip: not a zip archive" in result.output
    assert not (tmp_path / "glue" / "RTE").exists() and not (tmp_path / "glue" / "SHA256SUMS").exists()
