"""The example regularizer: its term by hand, and a run that adds it and logs it."""
import json
import math
from types import SimpleNamespace

import torch
from click.testing import CliRunner

import mtdnn_example_regularizer
from mtdnn_core.api import RunMode, TaskDef, cli

TINY = ["--encoder", "tiny-random-bert", "--max-seq-len", "32", "--num-threads", "2", "--device", "cpu", "--no-progress"]
TASKS = "polarity:\n  task_type: Classification\n  data_format: PremiseOnly\n  labels: [neg, pos]\n"


def test_the_term_is_minus_beta_times_the_entropy(mtdnn_host):
    host = mtdnn_host(mtdnn_example_regularizer)
    penalty = host.registries.regularizers.build("confidence_penalty", {"beta": 0.5}, registries=host.registries)
    task = SimpleNamespace(name="t", task_type="classification")
    logits = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]])  # p = [0.75, 0.25] and [0.5, 0.5]
    entropies = [-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)), math.log(2.0)]
    term = penalty(None, task, {}, logits, None)
    assert math.isclose(term.item(), -0.5 * sum(entropies) / 2, rel_tol=1e-6)
    assert penalty(None, SimpleNamespace(name="r", task_type="regression"), {}, logits, None) is None


def test_it_declares_that_it_runs_under_torchrun_and_compile(mtdnn_host):
    host = mtdnn_host(mtdnn_example_regularizer)
    penalty = host.registries.regularizers.build("confidence_penalty", {"beta": 0.5}, registries=host.registries)
    tasks = {"t": TaskDef(name="t", task_type="classification", data_format="PremiseOnly")}
    task_types = {"t": host.registries.task_types.get("classification").factory}
    assert penalty.check(tasks, task_types, RunMode(distributed=True, compile=True)) == []
    assert not penalty.replaces_task_loss


def write_data(folder):
    folder.mkdir()
    rows = [f"r{i}\t{'pos' if i % 2 else 'neg'}\t{'good fine nice' if i % 2 else 'bad awful poor'} {i}" for i in range(24)]
    (folder / "polarity_train.tsv").write_text("\n".join(rows[:16]) + "\n")
    (folder / "polarity_dev.tsv").write_text("\n".join(rows[16:]) + "\n")


def train(tmp_path, regularizers):
    (tmp_path / "tasks.yml").write_text(TASKS)
    write_data(tmp_path / "data")
    return CliRunner().invoke(cli, ["train", "--plugin", "example-regularizer", "--task-def", str(tmp_path / "tasks.yml"),
                                     "--data-dir", str(tmp_path / "data"), "--tasks", "polarity", "--epochs", "1",
                                     "--batch-size", "8", "--log-every", "1", "--output-dir", str(tmp_path / "run"),
                                     "--set", f"regularizers={regularizers}", *TINY])


def test_a_run_adds_the_term_and_logs_it_with_the_entropy(tmp_path):
    result = train(tmp_path, "[{name: confidence_penalty, params: {beta: 0.5}}]")
    assert result.exit_code == 0, result.output
    records = [r for r in map(json.loads, (tmp_path / "run" / "log.jsonl").read_text().splitlines()) if r["event"] == "train"]
    assert len(records) == 2
    for record in records:  # a two-class entropy lies in [0, ln 2]; the term is -beta times it
        assert 0 <= record["reg_confidence_penalty_entropy"] <= math.log(2)
        assert math.isclose(record["reg_confidence_penalty"], -0.5 * record["reg_confidence_penalty_entropy"], rel_tol=1e-5)


def test_an_unknown_option_is_refused_before_training(tmp_path):
    result = train(tmp_path, "[{name: confidence_penalty, params: {alpha: 1}}]")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "alpha" in result.output and not (tmp_path / "run" / "log.jsonl").exists()
