"""GLUE submissions from a cut test set, and conversions that follow a new --data-dir."""
import json

from click.testing import CliRunner

from mtdnn_core.api import cli
from mtdnn_core.testing import real_data


def test_glue_submission_from_a_cut_test_set(tmp_path):
    real_data("glue")  # the row count is checked against the real test set
    run = tmp_path / "glue-run"
    (run / "scores").mkdir(parents=True)
    (run / "scores" / "rte_test.epoch0.json").write_text(json.dumps({"uids": ["0", "1"], "predictions": ["entailment"] * 2}))
    (run / "metrics.json").write_text(json.dumps([{"tag": "epoch0", "step": 1}]))
    result = CliRunner().invoke(cli, ["glue", "submit", str(run), "--out", str(tmp_path / "sub")])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    for piece in ("rte_test.epoch0.json: 2 predictions", "has 3000 rows", "--max-eval-samples"):
        assert piece in result.output, result.output
    assert not (tmp_path / "sub" / "RTE.tsv").exists()


def test_glue_conversion_follows_a_new_data_dir(tmp_path):
    """The same --output-dir with another --data-dir: the new files are converted, not the old reused."""
    glue_dir = real_data("glue")
    small = tmp_path / "small"
    (small / "RTE").mkdir(parents=True)
    lines = (glue_dir / "RTE" / "train.tsv").read_text(encoding="utf-8").splitlines()
    (small / "RTE" / "train.tsv").write_text("\n".join(lines[:41]) + "\n", encoding="utf-8")
    (small / "RTE" / "dev.tsv").write_text("\n".join(lines[:21]) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    common = ["train", "--plugin", "glue", "--tasks", "rte", "--encoder", "tiny-random-bert", "--max-seq-len", "16",
              "--epochs", "0", "--output-dir", str(out), "--no-progress", "--max-eval-samples", "4"]
    assert CliRunner().invoke(cli, [*common, "--data-dir", str(small)]).exit_code == 0
    assert len((out / "data" / "glue" / "rte_train.tsv").read_text().splitlines()) == 40
    result = CliRunner().invoke(cli, [*common, "--data-dir", str(glue_dir), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert len((out / "data" / "glue" / "rte_train.tsv").read_text().splitlines()) == 2490
