"""What the ALUM regularizers declare, and the refusals that follow before the model loads."""
from click.testing import CliRunner

from mtdnn_core.api import RunMode, TaskDef, cli
from mtdnn_core.testing import make_host
from mtdnn_alum import plugin

REGISTRIES = make_host(plugin).registries
TASKS = "polarity:\n  task_type: Classification\n  data_format: PremiseOnly\n  labels: [neg, pos]\n"


def build(name, **params):
    return REGISTRIES.regularizers.build(name, params, registries=REGISTRIES)


def test_declared_needs():
    smart, bregman = build("smart", steps=2), build("bregman")
    assert smart.compares_outputs and smart.hooks_encoder and smart.extra_forward_passes == 3
    assert bregman.compares_outputs and bregman.copies_model and bregman.extra_forward_passes == 1
    assert not smart.supports_compile and not smart.replaces_task_loss
    # the trainer sums the gradients of every pass of an update over ranks: all of them run under torchrun
    assert all(build(name).supports_distributed for name in ("smart", "pdr", "bregman", "l2sp"))


def test_a_task_left_out_with_tasks_is_not_refused():
    tasks = {"odd": TaskDef(name="odd", task_type="opaque", data_format="PremiseOnly"),
             "rte": TaskDef(name="rte", task_type="classification", data_format="PremiseOnly")}
    kinds = {"odd": object(), "rte": REGISTRIES.task_types.get("classification").factory}
    assert build("smart", tasks=["rte"]).check(tasks, kinds, RunMode()) == []
    problems = build("smart").check(tasks, kinds, RunMode())
    assert len(problems) == 1 and "task 'odd': task type 'opaque' cannot compare two outputs" in problems[0]


def test_smart_with_compile_is_refused_before_the_model_loads(tmp_path):
    (tmp_path / "tasks.yml").write_text(TASKS)
    data = tmp_path / "data"
    data.mkdir()
    rows = [f"r{i}\t{'pos' if i % 2 else 'neg'}\tword {i}" for i in range(8)]
    (data / "polarity_train.tsv").write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(cli, ["train", "--plugin", "alum", "--task-def", str(tmp_path / "tasks.yml"),
                                      "--data-dir", str(data), "--tasks", "polarity", "--epochs", "1", "--compile",
                                      "--output-dir", str(tmp_path / "run"), "--encoder", "tiny-random-bert",
                                      "--device", "cpu", "--no-progress", "--set", "regularizers=[{name: smart}]"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "smart" in result.output and "--compile" in result.output and "hooks into the encoder" in result.output
    assert not (tmp_path / "run" / "log.jsonl").exists() and not (tmp_path / "run" / "checkpoint").exists()
