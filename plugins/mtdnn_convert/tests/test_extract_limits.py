"""``mtdnn extract --max-seq-len`` must fit the encoder: room for the special tokens and a token
per text, at most its position embeddings; refused before anything is written."""
import json
import re

import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main

LONG = " ".join(["word"] * 600)  # 600 word pieces: more than tiny-random-bert's 512 positions


def extract(tmp_path, text, *args):
    (tmp_path / "in.txt").write_text(text)
    return CliRunner().invoke(main, ["extract", "--encoder", "tiny-random-bert", "--input", str(tmp_path / "in.txt"),
                                     "--output", str(tmp_path / "o.jsonl"), "--no-progress", "--pooling", "all", *args])


@pytest.mark.parametrize("text, value, message", [
    ("fine\n", "0", r"--max-seq-len.*0 is not in the range x>=1"),
    ("fine\n", "-5", r"--max-seq-len.*-5 is not in the range x>=1"),
    ("fine\n", "2", r"--max-seq-len 2: too short for a text; this tokenizer adds 2 special token\(s\), so use at least 3"),
    ("a ||| b\n", "4", r"--max-seq-len 4: too short for a pair of texts; .* adds 3 special token\(s\), so use at least 5"),
    (LONG + "\n", "100000", r"--max-seq-len 100000: this encoder takes at most 512 tokens"),
    (LONG + "\n", "513", r"--max-seq-len 513: this encoder takes at most 512 tokens"),
])
def test_max_seq_len_outside_the_encoders_limits_is_refused(tmp_path, text, value, message):
    result = extract(tmp_path, text, "--max-seq-len", value)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), repr(result.exception)
    assert re.search(message, result.output), result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


def test_the_limits_themselves_are_accepted_and_truncate(tmp_path):
    result = extract(tmp_path, f"{LONG}\nsome words here ||| and more words\n", "--max-seq-len", "512")
    assert result.exit_code == 0, result.output
    long, pair = (json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines())
    assert len(long["tokens"]) == 512 and long["tokens"][0] == "[CLS]" and long["tokens"][-1] == "[SEP]"
    assert len(long["features"][0]["values"]) == 512
    assert pair["tokens"] == ["[CLS]", "some", "words", "here", "[SEP]", "and", "more", "words", "[SEP]"]

    result = extract(tmp_path, "three words here\n", "--max-seq-len", "3")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "o.jsonl").read_text())["tokens"] == ["[CLS]", "three", "[SEP]"]
