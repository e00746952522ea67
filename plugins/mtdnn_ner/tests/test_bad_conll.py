"""Bad CoNLL files: each an error naming the file and line, exit code 2, no traceback, no run left."""
from click.testing import CliRunner

from mtdnn_core.api import cli
from mtdnn_ner.conll import read_conll


def conll(tmp_path, content):
    data = tmp_path / "conll"
    data.mkdir(parents=True)
    path = data / "train.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    args = ["train", "--plugin", "ner", "--data-dir", str(data), "--tasks", "ner", "--encoder", "tiny-random-bert",
            "--max-seq-len", "32", "--epochs", "1", "--output-dir", str(tmp_path / "run"), "--no-progress"]
    return args, path


def fails(tmp_path, args, expected):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and expected in result.output, result.output
    run = tmp_path / "run"
    assert not run.exists() or not any(run.glob("checkpoint-*")) and not (run / "log.jsonl").exists()


def test_conll_wrong_columns(tmp_path):
    args, path = conll(tmp_path, "EU NNP B-NP B-ORG\nrejects VBZ O\n")
    fails(tmp_path, args, f"{path}:2: 3 column(s), expected 4")


def test_conll_bad_tag_points_at_its_own_line(tmp_path):
    args, path = conll(tmp_path / "a", "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP X-MISC\n")
    fails(tmp_path / "a", args, f"{path}:3: tag 'X-MISC' is not O or PREFIX-TYPE")
    args, path = conll(tmp_path / "b", "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-FOO\n")
    fails(tmp_path / "b", args, f"{path}:3: unknown tag 'B-FOO'")


def test_conll_not_utf8(tmp_path):
    args, path = conll(tmp_path, "EU NNP B-NP B-ORG\ncaf\xe9 NN B-NP O\n".encode("latin-1"))
    fails(tmp_path, args, f"{path}:2: not UTF-8 (byte 0xe9")


def test_conll_bom_before_docstart_adds_no_sentence(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("\ufeff-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\n", encoding="utf-8")
    assert [s.column(0) for s in read_conll(path)] == [["EU"]]
