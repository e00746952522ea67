"""The conversion plugin's hook implementations: three commands, and the export of mtdnn's own heads
that have no transformers class."""
from __future__ import annotations

from mtdnn_core.api import hookimpl

MTDNN_API = ">=1.0,<2"  # the mtdnn plugin API this plugin is written for (mtdnn_core.api)


@hookimpl
def register_commands(cli):
    from mtdnn_convert.cli import convert, export, extract

    cli.add_command(convert)
    cli.add_command(export)
    cli.add_command(extract)


@hookimpl
def export_head(head, task):
    from mtdnn_convert.core_heads import export_core_head

    return export_core_head(head, task)
