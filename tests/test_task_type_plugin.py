"""A third-party task type, defined in a plugin module, trains and predicts through the CLI.

The toy task: predict how many words a sentence has (a regression whose label the reader
computes). Its task type decodes predictions to whole counts and its metric is the share of
exact counts, which the test recomputes from the written predictions.
"""
import json

from click.testing import CliRunner

from mtdnn_core.cli import main

PLUGIN = '''
"""Token counting as a task type: reader, task type, metric."""
import numpy as np

from mtdnn_core import hookimpl
from mtdnn_core.data.formats import Example, PremiseOnly, read_tsv_rows
from mtdnn_core.metrics import Metric
from mtdnn_core.task_types import Decoder, TaskType


class CountText(PremiseOnly):
    name = "CountText"
    min_columns = max_columns = 2
    columns = "uid, text"

    def parse_row(self, row, task, task_type, where):
        return Example(uid=row[0], label=task_type.parse_label(str(len(row[1].split())), task, where), texts=[row[1]])


class RoundedDecoder(Decoder):
    def __init__(self):
        self.out = {"uids": [], "predictions": [], "scores": [], "golds": []}

    def add(self, rows, batch, outputs):
        values = outputs.float().view(-1).tolist()
        self.out["uids"] += batch["uids"]
        self.out["scores"] += values
        self.out["predictions"] += [max(0, round(v)) for v in values]
        self.out["golds"] += [r["label"] for r in rows]

    def result(self):
        return self.out


class TokenCount(TaskType):
    name = "token_count"
    formats = ("CountText",)
    default_head = "pooler"
    default_loss = "mse"
    default_metrics = ("exact_count",)

    def default_n_class(self, task):
        return 1

    def parse_label(self, raw, task, where):
        return float(raw)

    def label_tensor(self, labels):
        import torch

        return torch.tensor(labels, dtype=torch.float)

    def decoder(self, task, head):
        return RoundedDecoder()


@hookimpl
def register_task_types(registry):
    registry.add("token_count", TokenCount())


@hookimpl
def register_data_formats(registry):
    registry.add("CountText", CountText())


@hookimpl
def register_metrics(registry):
    registry.add("exact_count", Metric("exact_count", lambda g, p, s: float(np.mean(g == p))))
'''

TASKS = "count:\n  task_type: token_count\n  data_format: CountText\n"
TINY = ["--encoder", "tiny-random-bert", "--max-seq-len", "32", "--num-threads", "2", "--device", "cpu", "--no-progress"]


def test_a_plugin_task_type_trains_and_predicts_end_to_end(tmp_path, monkeypatch):
    package = tmp_path / "countplugin"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "hooks.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    data = tmp_path / "data"
    data.mkdir()
    words = "the a cat sat on mat and then it ran far away".split()
    lines = [f"{i}\t{' '.join(words[: 1 + i % 6])}" for i in range(96)]
    (data / "count_train.tsv").write_text("\n".join(lines[:80]) + "\n")
    (data / "count_dev.tsv").write_text("\n".join(lines[80:]) + "\n")
    (tmp_path / "tasks.yml").write_text(TASKS)
    runner = CliRunner()
    assert runner.invoke(main, ["validate", "--plugin", "countplugin.hooks", str(tmp_path / "tasks.yml")]).exit_code == 0
    out = tmp_path / "run"
    result = runner.invoke(main, ["train", "--plugin", "countplugin.hooks", "--task-def", str(tmp_path / "tasks.yml"),
                                  "--data-dir", str(data), "--tasks", "count", "--epochs", "3", "--batch-size", "8",
                                  "--lr", "3e-3", "--output-dir", str(out), *TINY])
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "scores" / "count_dev.epoch2.json").read_text())
    golds = [len(line.split("\t")[1].split()) for line in lines[80:]]
    assert all(isinstance(p, int) for p in scores["predictions"])  # the task type's decoder rounded them
    expected = 100 * sum(p == g for p, g in zip(scores["predictions"], golds)) / len(golds)
    assert scores["metrics"]["exact_count"] == expected
    # prediction from the checkpoint: the plugin is found again from the checkpoint's metadata
    result = runner.invoke(main, ["predict", "--checkpoint", str(out), "--task", "count", "--data",
                                  str(data / "count_dev.tsv"), "--output", str(tmp_path / "pred.json")])
    assert result.exit_code == 0, result.output
    predicted = json.loads((tmp_path / "pred.json").read_text())
    assert predicted["predictions"] == scores["predictions"] and predicted["metrics"] == scores["metrics"]


def test_an_uninstalled_task_type_is_a_validate_error_with_did_you_mean(tmp_path):
    (tmp_path / "tasks.yml").write_text("qa:\n  task_type: Spam\n  data_format: PremiseOnly\n"
                                        "count:\n  task_type: tokn_count\n  data_format: PremiseOnly\n")
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "tasks.yml")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "qa.task_type: no task type 'Spam'" in result.output and "count.task_type: no task type 'tokn_count'" in result.output
