"""The GLUE plugin's hook implementations."""
from __future__ import annotations

from functools import cache
from importlib.resources import files

from mtdnn_core import hookimpl

SAMPLE_NAMES = ("glue:sample", "sample")


@cache
def task_defs():
    from mtdnn_core.config import parse_task_defs

    resource = files("mtdnn_glue") / "glue_task_def.yml"
    return parse_task_defs(resource.read_text(encoding="utf-8"), "mtdnn_glue/glue_task_def.yml")


def locator(name: str):
    """How task ``name`` finds its data: canonical files, or converted from the original layout."""
    from mtdnn_glue.convert import locate
    from mtdnn_glue.domain import locate_qnli_ranking, locate_scitail, locate_snli

    special = {"snli": locate_snli, "scitail": locate_scitail, "qnnli": locate_qnli_ranking}
    return special.get(name) or locate(name)


@hookimpl
def register_tasks(registry):
    from mtdnn_core.tasks import Task

    for name, definition in task_defs().items():
        registry.add(name, Task(definition, locate=locator(name)), description=f"GLUE {name}")


@hookimpl
def resolve_data_dir(name):
    if name in SAMPLE_NAMES:
        from mtdnn_glue.sample import sample_dir

        return sample_dir()
    return None


@hookimpl
def register_commands(cli):
    from mtdnn_glue.cli import glue

    cli.add_command(glue)
