"""What the ALUM regularizers declare, and the refusals that follow before the model loads."""
from mtdnn_core.api import RunMode, TaskDef
from mtdnn_core.testing import make_host
from mtdnn_alum import plugin

REGISTRIES = make_host(plugin).registries


def build(name, **params):
    return REGISTRIES.regularizers.build(name, params, registries=REGISTRIES)


def test_declared_needs():
    smart, bregman = build("smart", steps=2), build("bregman")
    assert smart.compares_outputs and smart.hooks_encoder and smart.extra_forward_passes == 3
    assert bregman.compares_outputs and bregman.copies_model and bregman.extra_forward_passes == 1
    assert not smart.replaces_task_loss
    # their hooks are traced with a compiled encoder (tests/test_compile.py)
    assert all(build(name).supports_compile for name in ("smart", "pdr", "bregman", "l2sp"))
    # the trainer sums the gradients of every pass of an update over ranks: all of them run under torchrun
    assert all(build(name).supports_distributed for name in ("smart", "pdr", "bregman", "l2sp"))


def test_a_task_left_out_with_tasks_is_not_refused():
    tasks = {"odd": TaskDef(name="odd", task_type="opaque", data_format="PremiseOnly"),
             "rte": TaskDef(name="rte", task_type="classification", data_format="PremiseOnly")}
    kinds = {"odd": object(), "rte": REGISTRIES.task_types.get("classification").factory}
    assert build("smart", tasks=["rte"]).check(tasks, kinds, RunMode()) == []
    problems = build("smart").check(tasks, kinds, RunMode())
    assert len(problems) == 1 and "task 'odd': task type 'opaque' cannot compare two outputs" in problems[0]
