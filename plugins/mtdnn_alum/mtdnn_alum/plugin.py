"""The ALUM plugin's hook implementations."""
from __future__ import annotations

from mtdnn_core.api import hookimpl

MTDNN_API = ">=1.2,<2"  # the mtdnn plugin API this plugin is written for (mtdnn_core.api; 1.2: copy_model)


@hookimpl
def register_losses(registry):
    from mtdnn_alum.divergences import DIVERGENCES

    for name, (cls, aliases) in DIVERGENCES.items():
        registry.add(name, cls, aliases=aliases)


@hookimpl
def register_regularizers(registry):
    from mtdnn_alum.regularizers import SMART, BregmanProximalPoint, PosteriorDifferential

    registry.add("smart", SMART, config=SMART.Config, aliases=("adversarial",))
    registry.add("pdr", PosteriorDifferential, config=PosteriorDifferential.Config)
    registry.add("bregman", BregmanProximalPoint, config=BregmanProximalPoint.Config)


@hookimpl
def register_task_def_fields(registry):
    from mtdnn_alum.regularizers import ADV_LOSS

    registry.add(ADV_LOSS.name, ADV_LOSS, description=ADV_LOSS.description)


@hookimpl
def register_commands(cli):
    from mtdnn_alum.cli import alum

    cli.add_command(alum)
