"""The GLUE plugin's hook implementations."""
from __future__ import annotations

from mtdnn_core.api import hookimpl

MTDNN_API = ">=1.0,<2"  # the mtdnn plugin API this plugin is written for (mtdnn_core.api)

SAMPLE_NAMES = ("glue:sample", "sample")


@hookimpl
def register_tasks(registry):
    from mtdnn_core.api import Task
    from mtdnn_glue.definitions import task_defs
    from mtdnn_glue.locators import locator

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
