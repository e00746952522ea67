"""Soft labels that are not probability distributions are refused when read, naming file and line,
before a KL loss could turn NaN."""
import json
import shutil

import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main
from mtdnn_kd.errors import SoftLabelError
from mtdnn_kd.kinds import kind_for
from mtdnn_kd.soft_labels import read_entries

TRAIN_ROWS = 64


def kd_train(tmp_path, soft_dir, data):
    return CliRunner().invoke(main, [
        "kd", "train", "--soft-labels", str(soft_dir), "--plugin", "glue", "--data-dir", str(data), "--tasks", "rte",
        "--encoder", "tiny-random-bert", "--epochs", "1", "--max-train-samples", str(TRAIN_ROWS), "--max-eval-samples", "8",
        "--max-seq-len", "64", "--batch-size", "16", "--num-threads", "1", "--device", "cpu",
        "--output-dir", str(tmp_path / "student"), "--no-progress"])


@pytest.mark.parametrize("soft, said", [
    ([-0.25, 1.25], "holds -0.25, not a probability"),
    ([0.5, 0.6], "sum to 1.1, not 1"),
    ([0.3, 0.3], "sum to 0.6, not 1"),
])
def test_kd_train_refuses_soft_labels_that_are_not_distributions(tmp_path, canonical, soft_dir, soft, said):
    broken = tmp_path / "broken"
    shutil.copytree(soft_dir, broken)
    path = broken / "rte.train.jsonl"
    rows = path.read_text().splitlines()
    entry = json.loads(rows[4])
    entry["soft"] = soft
    rows[4] = json.dumps(entry)
    path.write_text("\n".join(rows) + "\n")
    before = {p.name: p.read_bytes() for p in broken.iterdir()}

    result = kd_train(tmp_path, broken, canonical)

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert f"{path}:5: " in result.output and said in result.output
    assert {p.name: p.read_bytes() for p in broken.iterdir()} == before
    assert not (tmp_path / "student" / "log.jsonl").exists()


def write_lines(path, entries):
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return path


def test_rounded_distributions_are_accepted_and_bad_word_rows_named(tmp_path):
    thirds = [0.333333, 0.333333, 0.333333]  # 6 decimals as the files keep them: sums to 0.999999
    path = write_lines(tmp_path / "a.jsonl", [{"uid": "a", "soft": thirds}, {"uid": "b", "soft": [1.0, 0.0, 0.0]}])
    entries = read_entries(path, kind_for("classification"))
    assert entries["a"]["soft"].tolist() == pytest.approx(thirds)

    tags = write_lines(tmp_path / "t.jsonl", [{"uid": "a", "soft": [[1.0, 0.0], [0.9, 0.0]]}])
    with pytest.raises(SoftLabelError, match=rf"t\.jsonl:1: word 1's 'soft' probabilities sum to 0\.9, not 1"):
        read_entries(tags, kind_for("sequence_labeling"))

    ranking = write_lines(tmp_path / "r.jsonl", [{"uid": "a", "soft": [0.2, 0.2, 0.6]}, {"uid": "b", "soft": [2.0, -1.0]}])
    with pytest.raises(SoftLabelError, match=r"r\.jsonl:2: 'soft' holds 2, not a probability"):
        read_entries(ranking, kind_for("ranking"))

    values = write_lines(tmp_path / "v.jsonl", [{"uid": "a", "soft": 3.7}])  # regression: a value, not a distribution
    assert read_entries(values, kind_for("regression"))["a"]["soft"] == pytest.approx(3.7)
