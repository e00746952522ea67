"""The conversion plugin's hook implementations: it adds three commands and nothing else."""
from __future__ import annotations

from mtdnn_core import hookimpl


@hookimpl
def register_commands(cli):
    from mtdnn_convert.cli import convert, export, extract

    cli.add_command(convert)
    cli.add_command(export)
    cli.add_command(extract)
