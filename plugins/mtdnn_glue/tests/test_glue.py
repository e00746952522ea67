"""GLUE conversion on the real distribution files, and the plugin's registrations."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtdnn_core.api import PremiseAndOneHypothesis, PremiseOnly, cli as main
from mtdnn_core.testing import real_data_dir
from mtdnn_core.testing import make_host
from mtdnn_glue import plugin
from mtdnn_glue.convert import convert_task
from mtdnn_glue.sample import write_sample

GLUE = real_data_dir() / "glue"


def rows(path):
    return path.read_text(encoding="utf-8").splitlines()


def test_task_definitions_load_and_validate():
    host = make_host(plugin)
    tasks = host.registries.tasks
    glue_tasks = [n for n in tasks.names() if not tasks.get(n).origin.plugin.startswith("core.")]  # not the core's mlm
    assert sorted(glue_tasks) == ["cola", "mnli", "mrpc", "qnli", "qnnli", "qqp", "rte", "scitail", "snli", "sst", "stsb", "wnli"]
    mnli = tasks.get("mnli").factory.definition
    assert mnli.labels == ["contradiction", "neutral", "entailment"] and "mismatched_dev" in mnli.split_names
    assert tasks.get("cola").factory.definition.metric_meta == ["ACC", "MCC"]


@pytest.mark.parametrize("task,split,count", [
    ("cola", "train", 8551), ("cola", "dev", 1043), ("cola", "test", 1063),
    ("mrpc", "train", 3668), ("mrpc", "dev", 408), ("qnli", "dev", 5463), ("sst", "dev", 872),
    ("stsb", "train", 5749), ("rte", "test", 3000), ("wnli", "train", 635),
])
@pytest.mark.real_data("glue")
def test_conversion_keeps_every_row(tmp_path, task, split, count):
    converted = convert_task(task, GLUE, tmp_path)
    assert len(rows(converted[split])) == count  # the published split sizes (MANIFEST.md)


@pytest.mark.real_data("glue")
def test_conversion_quirks(tmp_path):
    mrpc = convert_task("mrpc", GLUE, tmp_path)
    first = rows(mrpc["train"])[0].split("\t")
    assert first[1] == "1" and first[2].startswith("Amrozi accused")  # BOM stripped, header skipped
    dev = rows(mrpc["dev"])[0].split("\t")
    assert dev[3].startswith('" The foodservice')  # stray quote kept as text, row not merged
    cola = rows(convert_task("cola", GLUE, tmp_path)["train"])[0].split("\t")
    assert cola[1] == "1" and cola[2].startswith("Our friends won't")  # header-less file
    rte_test = rows(convert_task("rte", GLUE, tmp_path)["test"])[0].split("\t")
    assert rte_test[1] == ""  # unlabeled
    regs = make_host(plugin).registries
    parsed = PremiseAndOneHypothesis().read(convert_task("qnli", GLUE, tmp_path)["dev"], regs.tasks.get("qnli").factory.definition,
                                            regs.task_types.get("classification").factory)
    assert len(parsed) == 5463 and {r.label for r in parsed} == {0, 1}


def test_sample_data_is_deterministic_and_readable(tmp_path):
    a, b = write_sample(tmp_path / "a"), write_sample(tmp_path / "b")
    for folder in ("SST-2", "MRPC", "STS-B", "RTE"):
        assert (a / folder / "train.tsv").read_bytes() == (b / folder / "train.tsv").read_bytes()
    sst = convert_task("sst", a, tmp_path / "c")
    regs = make_host(plugin).registries
    examples = PremiseOnly().read(sst["train"], regs.tasks.get("sst").factory.definition,
                                  regs.task_types.get("classification").factory)
    assert len(examples) == 240 and {e.label for e in examples} == {0, 1}


@pytest.mark.real_data("glue")
def test_glue_commands(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["glue", "convert", str(GLUE), str(tmp_path), "--tasks", "rte,stsb"])
    assert result.exit_code == 0, result.output
    assert "rte    train" in result.output and (tmp_path / "stsb_dev.tsv").is_file()
    result = runner.invoke(main, ["validate", "--plugin", "glue", str(Path(plugin.__file__).parent / "glue_task_def.yml")])
    assert result.exit_code == 0 and result.output.startswith("ok")
