"""The example loss: its value by hand, and a run that uses it through a task definition."""
import json
import math

import torch
from click.testing import CliRunner

import mtdnn_example_loss
from mtdnn_core.api import cli

TINY = ["--encoder", "tiny-random-bert", "--max-seq-len", "32", "--num-threads", "2", "--device", "cpu", "--no-progress"]
TASKS = """\
polarity:
  task_type: Classification
  data_format: PremiseOnly
  labels: [neg, pos]
  loss: smooth_ce
  loss_config: {smoothing: %s}
"""


def test_smoothed_cross_entropy_by_hand(mtdnn_host):
    loss = mtdnn_host(mtdnn_example_loss).registries.losses.build("smooth_ce", {"smoothing": 0.2})
    # p = softmax([ln 3, 0]) = [0.75, 0.25]; the target 0 smoothed over 2 classes is [0.9, 0.1]
    logits = torch.tensor([[math.log(3.0), 0.0]])
    expected = -(0.9 * math.log(0.75) + 0.1 * math.log(0.25))
    assert math.isclose(loss(logits, torch.tensor([0])).item(), expected, rel_tol=1e-6)
    # per-sample weights: a weighted mean (the second row, weight 0, does not count)
    two = torch.tensor([[math.log(3.0), 0.0], [0.0, 5.0]])
    assert math.isclose(loss(two, torch.tensor([0, 0]), torch.tensor([1.0, 0.0])).item(), expected, rel_tol=1e-6)


def write_data(folder):
    folder.mkdir()
    rows = [f"r{i}\t{'pos' if i % 2 else 'neg'}\t{'good fine nice' if i % 2 else 'bad awful poor'} {i}" for i in range(24)]
    (folder / "polarity_train.tsv").write_text("\n".join(rows[:16]) + "\n")
    (folder / "polarity_dev.tsv").write_text("\n".join(rows[16:]) + "\n")


def test_a_task_trains_with_the_loss_from_its_definition(tmp_path):
    write_data(tmp_path / "data")
    (tmp_path / "tasks.yml").write_text(TASKS % 0.1)
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "--plugin", "example-loss", "--task-def", str(tmp_path / "tasks.yml"),
                                       "--data-dir", str(tmp_path / "data"), "--tasks", "polarity", "--epochs", "1",
                                       "--batch-size", "8", "--output-dir", str(out), "--log-every", "1", *TINY])
    assert result.exit_code == 0, result.output
    losses = [r["loss"] for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if r["event"] == "train"]
    # two classes, smoothing 0.1: the loss is at least the entropy of [0.95, 0.05]
    floor = -(0.95 * math.log(0.95) + 0.05 * math.log(0.05))
    assert len(losses) == 2 and all(math.isfinite(v) and v >= floor for v in losses)


def test_a_bad_option_of_the_loss_names_the_key(tmp_path):
    write_data(tmp_path / "data")
    (tmp_path / "tasks.yml").write_text(TASKS % 1.5)
    result = CliRunner().invoke(cli, ["validate", "--plugin", "example-loss", str(tmp_path / "tasks.yml")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "polarity.loss_config.smoothing" in result.output
