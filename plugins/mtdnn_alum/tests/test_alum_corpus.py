"""``mtdnn alum pretrain`` on a corpus that is not UTF-8: an error naming file, line and byte
that suggests iconv, before any output exists."""
import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main


@pytest.mark.parametrize("name, content, line, byte, column", [
    ("corpus.txt", "The cat sat on the mat.\nCaf\xe9 au lait.\nA third line.\n".encode("latin-1"), 2, "0xe9", 4),
    ("corpus.jsonl", b'{"text": "one"}\n{"text": "two"}\n{"text": "na\xefve"}\n', 3, "0xef", 13),
])
def test_a_corpus_that_is_not_utf8_is_refused_naming_line_and_byte(tmp_path, name, content, line, byte, column):
    corpus = tmp_path / name
    corpus.write_bytes(content)
    result = CliRunner().invoke(main, ["alum", "pretrain", "--encoder", "tiny-random-bert", "--corpus", str(corpus),
                                       "--output", str(tmp_path / "out"), "--steps", "1", "--batch-size", "2",
                                       "--max-seq-len", "32", "--device", "cpu"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), repr(result.exception)
    assert f"{corpus}:{line}: not UTF-8 (byte {byte} at column {column})" in result.output
    assert f"iconv -f latin1 -t utf-8 {name}" in result.output
    assert not (tmp_path / "out").exists() and corpus.read_bytes() == content
