"""The example reporter through the CLI: its CSV holds what the run's own metrics.json holds."""
import csv
import json

from click.testing import CliRunner

from mtdnn_core.api import cli

TINY = ["--encoder", "tiny-random-bert", "--max-seq-len", "32", "--num-threads", "2", "--device", "cpu", "--no-progress"]
TASKS = "polarity:\n  task_type: Classification\n  data_format: PremiseOnly\n  labels: [neg, pos]\n  metric_meta: [ACC, F1]\n"


def test_every_evaluation_is_a_csv_row(tmp_path):
    (tmp_path / "tasks.yml").write_text(TASKS)
    data = tmp_path / "data"
    data.mkdir()
    rows = [f"r{i}\t{'pos' if i % 2 else 'neg'}\tword {i}" for i in range(24)]
    (data / "polarity_train.tsv").write_text("\n".join(rows[:16]) + "\n")
    (data / "polarity_dev.tsv").write_text("\n".join(rows[16:]) + "\n")
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "--plugin", "example-reporter", "--task-def", str(tmp_path / "tasks.yml"),
                                       "--data-dir", str(data), "--tasks", "polarity", "--epochs", "2", "--batch-size", "8",
                                       "--report-to", "jsonl,csv", "--output-dir", str(out), *TINY])
    assert result.exit_code == 0, result.output
    with open(out / "evaluations.csv", newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == ["step", "epoch", "dataset", "metric", "value"]
    expected = [[str(h["step"]), str(h["epoch"]), dataset, name, value]
                for h in json.loads((out / "metrics.json").read_text())
                for dataset, metrics in h["metrics"].items() for name, value in metrics.items()]
    assert [row[:4] for row in table[1:]] == [row[:4] for row in expected]
    assert [float(row[4]) for row in table[1:]] == [row[4] for row in expected]
    assert len(table) == 1 + 2 * 2  # two evaluations, two metrics each
