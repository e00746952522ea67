"""The recipe end to end on real RTE and STS-B rows with the tiny random encoder."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main


def recipe(out, data, *extra):
    return CliRunner().invoke(main, [
        "kd", "recipe", "--plugin", "glue", "--data-dir", str(data), "--tasks", "rte,stsb", "--teachers", "2",
        "--out", str(out), "--encoder", "tiny-random-bert", "--epochs", "1", "--batch-size", "16", "--lr", "1e-3",
        "--max-seq-len", "64", "--max-train-samples", "128", "--max-eval-samples", "64", "--num-threads", "1",
        "--device", "cpu", "--hard-student", "--no-progress", *extra])


def test_recipe_teachers_soft_labels_student_and_baseline(tmp_path, canonical):
    out = tmp_path / "kd"
    result = recipe(out, canonical)
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    names = [s["system"] for s in results["systems"]]
    assert names == ["teacher 1 (single-task, seed 1)", "teacher 2 (single-task, seed 2)", "teachers' mean", "ensemble of 2",
                     "student (multi-task, distilled, seed 1)", "multi-task, hard labels only (seed 1)",
                     "single-task baseline (seed 1 = teacher 1)"]
    scores = {s["system"]: s["scores"] for s in results["systems"]}
    for system in names:
        assert set(scores[system]) == {"rte", "stsb"} and "accuracy" in scores[system]["rte"], system
        assert {"pearson", "spearman"} <= set(scores[system]["stsb"]), system
    assert scores["teachers' mean"]["rte"]["accuracy"] == pytest.approx(
        np.mean([scores[n]["rte"]["accuracy"] for n in names[:2]]))
    assert scores["single-task baseline (seed 1 = teacher 1)"] == scores["teacher 1 (single-task, seed 1)"]
    student = json.loads((out / "student" / "metrics.json").read_text())[-1]["metrics"]
    assert scores["student (multi-task, distilled, seed 1)"]["rte"] == student["rte_dev"]
    config = json.loads((out / "student" / "config.json").read_text())
    assert config["regularizers"][0]["name"] == "kd" and config["tasks"] == ["rte", "stsb"]
    assert (out / "teachers" / "rte-seed2" / "summary.json").is_file() and not (out / "baseline").exists()
    scored = sorted(p.name.split(".")[0] for p in out.rglob("scores/*.json"))  # the plans score dev sets only
    assert scored and set(scored) <= {"rte_dev", "stsb_dev"}
    assert not list((out / "teachers").rglob("scores/*.json"))  # teachers are not evaluated
    assert len((out / "soft" / "rte.train.jsonl").read_text().splitlines()) == 128
    for task in ("rte", "stsb"):
        assert (out / "plots" / f"{task}.png").read_bytes()[:4] == b"\x89PNG"
    table = (out / "results.md").read_text()
    assert "| ensemble of 2 |" in table and "rte accuracy (dev)" in table

    again = recipe(out, canonical)  # everything finished is reused, nothing retrained
    assert again.exit_code == 0, again.output
    assert again.output.count("reusing the finished run") == 6 and "soft labels: reusing" in again.output
    assert json.loads((out / "results.json").read_text())["systems"] == results["systems"]

    other = recipe(out, canonical, "--kd-loss", "kl", "--stages", "student,report")  # a second student beside the first
    assert other.exit_code == 0, other.output
    systems = [s["system"] for s in json.loads((out / "results.json").read_text())["systems"]]
    assert systems[4:6] == ["student (multi-task, distilled, seed 1)", "student (multi-task, distilled with kl, seed 1)"]
    params = json.loads((out / "student-kl" / "config.json").read_text())["regularizers"][0]["params"]
    assert params["loss"] == "kl"
