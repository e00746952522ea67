"""The GLUE plugin's task definitions (``glue_task_def.yml``, in the original toolkit's format)."""
from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def task_defs():
    from mtdnn_core.api import parse_task_defs

    resource = files("mtdnn_glue") / "glue_task_def.yml"
    return parse_task_defs(resource.read_text(encoding="utf-8"), "mtdnn_glue/glue_task_def.yml")
