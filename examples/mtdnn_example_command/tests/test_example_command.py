"""`mtdnn seeds` through the CLI: one run per seed with the options of `mtdnn train`, and the
mean and spread of each metric, recomputed here from the runs' own metrics.json."""
import json
import statistics

from click.testing import CliRunner

from mtdnn_core.api import cli

TINY = ["--encoder", "tiny-random-bert", "--max-seq-len", "32", "--num-threads", "2", "--device", "cpu"]
TASKS = "polarity:\n  task_type: Classification\n  data_format: PremiseOnly\n  labels: [neg, pos]\n"


def setup(tmp_path):
    (tmp_path / "tasks.yml").write_text(TASKS)
    data = tmp_path / "data"
    data.mkdir()
    rows = [f"r{i}\t{'pos' if i % 2 else 'neg'}\tword {i} {'good' if i % 2 else 'bad'}" for i in range(24)]
    (data / "polarity_train.tsv").write_text("\n".join(rows[:16]) + "\n")
    (data / "polarity_dev.tsv").write_text("\n".join(rows[16:]) + "\n")
    return ["--plugin", "example-command", "--task-def", str(tmp_path / "tasks.yml"), "--data-dir", str(data),
            "--tasks", "polarity", "--epochs", "1", "--batch-size", "8", "--output-dir", str(tmp_path / "runs"), *TINY]


def test_one_run_per_seed_and_the_spread_of_each_metric(tmp_path):
    result = CliRunner().invoke(cli, ["seeds", "--seeds", "1,2", "--lr", "1e-3", *setup(tmp_path)])
    assert result.exit_code == 0, result.output
    values = []
    for seed in (1, 2):
        run = tmp_path / "runs" / f"seed-{seed}"
        saved = json.loads((run / "config.json").read_text())
        assert (saved["seed"], saved["lr"], saved["epochs"]) == (seed, 1e-3, 1)  # train's options reached each run
        values.append(json.loads((run / "metrics.json").read_text())[-1]["metrics"]["polarity_dev"]["accuracy"])
    line = (f"polarity_dev accuracy: mean {statistics.mean(values):.2f}, sd {statistics.stdev(values):.2f} "
            f"({values[0]:.2f}, {values[1]:.2f})")
    assert line in result.output


def test_bad_seeds_and_a_single_seed_are_refused_before_training(tmp_path):
    args = setup(tmp_path)
    result = CliRunner().invoke(cli, ["seeds", "--seeds", "1,x", *args])
    assert result.exit_code == 2 and "--seeds" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["seeds", "--seeds", "1,2", "--seed", "3", *args])
    assert result.exit_code == 2 and "--seed" in result.output
    assert not (tmp_path / "runs").exists()
