"""The knowledge-distillation plugin's hook implementations."""
from __future__ import annotations

from mtdnn_core.api import hookimpl

MTDNN_API = ">=1.0,<2"  # the mtdnn plugin API this plugin is written for (mtdnn_core.api)


@hookimpl
def register_regularizers(registry):
    from mtdnn_kd.regularizer import KnowledgeDistillation

    registry.add("kd", KnowledgeDistillation, config=KnowledgeDistillation.Config, aliases=("distillation",))


@hookimpl
def register_task_def_fields(registry):
    from mtdnn_kd.objectives import KD_ALPHA, KD_LOSS

    for key in (KD_LOSS, KD_ALPHA):
        registry.add(key.name, key, description=key.description)


@hookimpl
def register_commands(cli):
    from mtdnn_kd.cli import kd

    cli.add_command(kd)
