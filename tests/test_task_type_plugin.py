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


def _plugin_with(task_type):
    import types

    from mtdnn_core.api import hookimpl

    plugin = types.ModuleType("halfdone")

    @hookimpl
    def register_task_types(registry):
        registry.add("half", task_type)

    plugin.register_task_types = register_task_types
    return plugin


def test_a_task_type_without_a_decoder_is_refused_when_it_registers_naming_plugin_type_and_method(mtdnn_host):
    import pytest

    from mtdnn_core.api import PluginError, TaskType

    class ParsesOnly(TaskType):
        name = "half"

        def parse_label(self, raw, task, where):
            return int(raw)

    with pytest.raises(PluginError) as err:
        mtdnn_host(_plugin_with(ParsesOnly())).registries
    message = str(err.value)
    assert message.startswith("halfdone: task type 'half' (ParsesOnly) does not implement decoder(task, head)")
    assert "subclass Classification" in message and "\n" not in message


def test_a_task_type_without_parse_label_is_a_validate_problem_for_a_format_that_reads_label_cells(tmp_path, monkeypatch,
                                                                                                   mtdnn_host):
    from mtdnn_core.api import Decoder, TaskDef, TaskType, check_task_defs

    class DecodesOnly(TaskType):
        name = "half"
        default_head, default_loss = "pooler", "ce"

        def decoder(self, task, head):
            return Decoder()

    host = mtdnn_host(_plugin_with(DecodesOnly()))
    defs = {"t": TaskDef(name="t", task_type="half", data_format="PremiseOnly", labels=["a", "b"]),
            "r": TaskDef(name="r", task_type="half", data_format="PremiseAndMultiHypothesis")}  # parses its own labels
    assert check_task_defs(defs, host.registries) == [
        "t.task_type: task type 'half' (DecodesOnly, from plugin halfdone) does not implement parse_label(raw, task, "
        "where), which data format 'PremiseOnly' calls for every label cell; implement it in the task type, or "
        "subclass Classification (docs/plugins.md, Task type)"]
    # mtdnn validate reports it (the same check), with the file's line, before any training
    (tmp_path / "halfplugin").mkdir()
    (tmp_path / "halfplugin" / "__init__.py").write_text("")
    (tmp_path / "halfplugin" / "hooks.py").write_text("from mtdnn_core.api import Decoder, TaskType, hookimpl\n\nMTDNN_API = '>=1.0,<2'\n\n\n"
                      "class DecodesOnly(TaskType):\n    default_head, default_loss = 'pooler', 'ce'\n\n"
                      "    def decoder(self, task, head):\n        return Decoder()\n\n\n"
                      "@hookimpl\ndef register_task_types(registry):\n    registry.add('half', DecodesOnly())\n")
    (tmp_path / "tasks.yml").write_text("t:\n  task_type: half\n  data_format: PremiseOnly\n  labels: [a, b]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = CliRunner().invoke(main, ["validate", "--plugin", "halfplugin.hooks", str(tmp_path / "tasks.yml")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{tmp_path / 'tasks.yml'}:2: t.task_type: task type 'half' (DecodesOnly, from plugin halfplugin.hooks" in result.output


def test_the_base_methods_name_what_to_implement():
    import pytest

    from mtdnn_core.api import Decoder, TaskDef, TaskType

    class Bare(TaskType):
        name = "bare"

    task = TaskDef(name="t", task_type="bare", data_format="PremiseOnly")
    with pytest.raises(NotImplementedError, match=r"task type 'bare' \(Bare\) does not implement parse_label\(raw, task, where\)"):
        Bare().parse_label("1", task, "f:1")
    with pytest.raises(NotImplementedError, match=r"task type 'bare' \(Bare\) does not implement decoder\(task, head\)"):
        Bare().decoder(task, None)

    class Half(Decoder):
        pass

    with pytest.raises(NotImplementedError, match=r"decoder Half does not implement add\(rows, batch, outputs\)"):
        Half().add([], {}, None)
    with pytest.raises(NotImplementedError, match=r"decoder Half does not implement result\(\)"):
        Half().result()


def test_classification_is_a_base_with_real_defaults(mtdnn_host):
    """A subclass that overrides parse_label alone registers, and decodes with softmax."""
    import math

    import torch

    from mtdnn_core.api import Classification, SoftmaxDecoder, TaskDef

    class Stars(Classification):
        name = "half"
        formats = None

        def parse_label(self, raw, task, where):
            return int(raw) - 1

    host = mtdnn_host(_plugin_with(Stars()))
    stars = host.registries.task_types.get("half").factory
    task = TaskDef(name="t", task_type="half", data_format="PremiseOnly", labels=["1", "2", "3"])
    decoder = stars.decoder(task, None)
    assert isinstance(decoder, SoftmaxDecoder)
    decoder.add([{"uid": "a", "label": stars.parse_label("3", task, "f:1")}], {"uids": ["a"]},
                torch.tensor([[0.0, 0.0, math.log(2.0)]]))  # probabilities 1/4, 1/4, 1/2
    out = decoder.result()
    assert out["predictions"] == [2] and out["golds"] == [2] and out["scores"] == [[0.25, 0.25, 0.5]]
    assert stars.readable(task, out) == ["3"]
