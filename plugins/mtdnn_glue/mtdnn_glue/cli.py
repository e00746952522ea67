"""``mtdnn glue ...``: GLUE-specific commands."""
from __future__ import annotations

from pathlib import Path

import click


@click.group()
def glue():
    """GLUE tasks: convert a GLUE directory, write the sample data set.

    \b
    Train on GLUE with:  mtdnn train --plugin glue --data-dir GLUE_DIR --tasks rte,mrpc,stsb
    """


@glue.command()
@click.argument("glue_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--tasks", default=None, help="Comma-separated tasks (default: all found).")
def convert(glue_dir, out_dir, tasks):
    """Convert GLUE_DIR (as the GLUE download script lays it out) to canonical files in OUT_DIR.

    \b
    Example:
      mtdnn glue convert ~/glue_data canonical/
    """
    from mtdnn_glue.convert import GLUE, convert_task

    names = tasks.split(",") if tasks else list(GLUE)
    for name in names:
        if name not in GLUE:
            raise click.BadParameter(f"unknown GLUE task '{name}'; known: {', '.join(GLUE)}", param_hint="--tasks")
        for split, path in convert_task(name, Path(glue_dir), Path(out_dir)).items():
            rows = sum(1 for _ in open(path, encoding="utf-8"))
            click.echo(f"{name:<6} {split:<16} {rows:>7} rows -> {path}")


@glue.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
def sample(out_dir):
    """Write the small GLUE-format sample data set (SST-2, MRPC, STS-B, RTE) to OUT_DIR."""
    from mtdnn_glue.sample import write_sample

    click.echo(f"sample data written to {write_sample(Path(out_dir))}")
