"""``mtdnn glue ...``: GLUE-specific commands."""
from __future__ import annotations

from pathlib import Path

import click


def _check_out(out_dir: str, option: str, inputs: list) -> None:
    """An output directory never is, contains or lies inside an input, nor holds a training run."""
    from mtdnn_core.api import TRAIN_RUN_MARKERS, check_output

    check_output(out_dir, inputs, option=option, directory=True, foreign=(*TRAIN_RUN_MARKERS, "state.json"))


@click.group()
def glue():
    """GLUE tasks: download, convert, the MT-DNN recipe, domain adaptation, submission files.

    \b
    Train on GLUE with:  mtdnn train --plugin glue --data-dir GLUE_DIR --tasks rte,mrpc,stsb
    Tasks: cola sst mrpc stsb qqp mnli (+ax) qnli qnnli (QNLI as ranking) rte wnli snli scitail
    """


@glue.command()
@click.argument("glue_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--tasks", default=None, help="Comma-separated tasks (default: all found of the GLUE benchmark; "
                                            "qnnli, snli and scitail when named).")
def convert(glue_dir, out_dir, tasks):
    """Convert GLUE_DIR (as the GLUE download script lays it out) to canonical files in OUT_DIR.

    \b
    Example:
      mtdnn glue convert ~/glue_data canonical/
      mtdnn glue convert ~/glue_data canonical/ --tasks qnnli    # QNLI as ranking
    """
    from mtdnn_glue.convert import GLUE, convert_task
    from mtdnn_glue.definitions import task_defs
    from mtdnn_glue.locators import convert_derived

    _check_out(out_dir, "OUT_DIR", [("GLUE_DIR", glue_dir)])
    known = list(task_defs())
    names = [t for t in tasks.split(",") if t] if tasks else list(GLUE)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise click.BadParameter(f"unknown GLUE task(s) {', '.join(unknown)}; known: {', '.join(known)}", param_hint="--tasks")
    for name in names:
        converted = (convert_task(name, Path(glue_dir), Path(out_dir)) if name in GLUE
                     else convert_derived(name, Path(glue_dir), Path(out_dir)))
        if not converted:
            click.echo(f"{name:<6} nothing found in {glue_dir}", err=True)
        for split, path in converted.items():
            rows = sum(1 for _ in open(path, encoding="utf-8"))
            click.echo(f"{name:<6} {split:<16} {rows:>7} rows -> {path}")


@glue.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
def sample(out_dir):
    """Write the small GLUE-format sample data set (SST-2, MRPC, STS-B, RTE) to OUT_DIR."""
    from mtdnn_glue.sample import write_sample

    _check_out(out_dir, "OUT_DIR", [])
    click.echo(f"sample data written to {write_sample(Path(out_dir))}")


@glue.command()
@click.option("--tasks", default="cola,sst,mrpc,stsb,qqp,mnli,qnli,rte,wnli,ax", show_default=True)
@click.option("--target", required=True, type=click.Path(file_okay=False), help="GLUE directory to create.")
@click.option("--mirror", default=None, help="Base URL of a mirror holding the same file names (and SHA256SUMS).")
@click.option("--checksums", type=click.Path(exists=True, dir_okay=False), default=None, help="A SHA256SUMS file to verify against.")
def download(tasks, target, mirror, checksums):
    """Download GLUE (official locations or a mirror), verify checksums, resume partial
    downloads, extract safely.

    \b
    Example:
      mtdnn glue download --tasks rte,mrpc,stsb --target glue_data/
    """
    from mtdnn_glue.download import download_glue, read_checksums

    _check_out(target, "--target", [("--checksums", checksums)])
    sums = read_checksums(Path(checksums).read_text()) if checksums else None
    done = download_glue([t.strip() for t in tasks.split(",") if t.strip()], Path(target), mirror, sums, log=click.echo)
    click.echo(f"{len(done)} task(s) in {target}; train with: mtdnn train --plugin glue --data-dir {target} --tasks ...")


@glue.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Folder for the TSV files.")
@click.option("--zip", "zip_path", type=click.Path(dir_okay=False), default=None, help="Also zip them (default OUT.zip).")
def submit(runs, out_dir, zip_path):
    """Write GLUE submission files (CoLA.tsv ... AX.tsv) from the test predictions of RUNS.

    \b
    Example:
      mtdnn glue submit runs/glue --out submission/
    """
    from mtdnn_glue.submission import write_submission

    from mtdnn_core.api import check_output

    zip_path = Path(zip_path) if zip_path else Path(str(Path(out_dir).resolve()) + ".zip")
    # the TSV files may go beside a run's own files (RUN/submission), never over a run
    check_output(out_dir, [("RUNS", r) for r in runs], option="--out", directory=True, allow_inside=True)
    check_output(zip_path, [("RUNS", r) for r in runs], option="--zip", allow_inside=True)
    written = write_submission([Path(r) for r in runs], Path(out_dir), zip_path)
    for name, rows in written.items():
        click.echo(f"{name:<12} {rows:>6} rows")
    click.echo(f"zipped to {zip_path}")


def _run_options(fn):
    options = [
        click.option("--data-dir", required=True, help="GLUE directory (or glue:sample)."),
        click.option("--encoder", default="all-minilm-l6-v2", show_default=True),
        click.option("--batch-size", type=int, default=32, show_default=True),
        click.option("--lr", type=float, default=5e-5, show_default=True),
        click.option("--max-seq-len", type=int, default=128, show_default=True),
        click.option("--max-train-samples", type=int, default=None),
        click.option("--max-eval-samples", type=int, default=None),
        click.option("--device", default="auto", show_default=True),
        click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32", show_default=True),
        click.option("--seed", type=int, default=2018, show_default=True),
        click.option("--num-threads", type=int, default=None),
        click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Any training-config key."),
        click.option("--no-progress", is_flag=True),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _base(options) -> dict:
    from mtdnn_core.api import parse_sets

    sets = options.pop("sets")
    progress = not options.pop("no_progress")
    base = {k: v for k, v in options.items() if v is not None}
    base.update(parse_sets(sets))
    return base, progress


@glue.command()
@click.option("--tasks", required=True, help="Tasks for refinement and fine-tuning, e.g. rte,mrpc,stsb.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--refine-epochs", type=int, default=3, show_default=True)
@click.option("--finetune-epochs", type=int, default=3, show_default=True)
@click.option("--baseline/--no-baseline", default=True, show_default=True, help="Also fine-tune each task from the original encoder.")
@_run_options
def recipe(tasks, out_dir, refine_epochs, finetune_epochs, baseline, **options):
    """The MT-DNN recipe: multi-task refinement, strip the heads, fine-tune each task; with the
    single-task baseline. Writes results.md, results.json and plots/<task>.png.

    \b
    Example:
      mtdnn glue recipe --data-dir glue_data --tasks rte,mrpc,stsb,sst,cola --out runs/recipe
    """
    from mtdnn_glue.recipe import run_recipe

    base, progress = _base(options)
    _check_out(out_dir, "--out", [("--data-dir", base.get("data_dir")), ("--encoder", base.get("encoder"))])
    results = run_recipe([t for t in tasks.split(",") if t], base, Path(out_dir), refine_epochs, finetune_epochs,
                         baseline, ["glue"], progress=progress, log=click.echo)
    click.echo((Path(out_dir) / "results.md").read_text())
    click.echo(f"plots in {Path(out_dir) / 'plots'}; {len(results['tasks'])} task(s)")


@glue.command()
@click.option("--task", required=True, help="The task to adapt to, e.g. scitail or snli.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--fractions", default="0.001,0.01,0.1,1", show_default=True, help="Shares of the training set.")
@click.option("--epochs", type=int, default=3, show_default=True)
@_run_options
def adapt(task, out_dir, fractions, epochs, **options):
    """Domain adaptation sweep: fine-tune from --encoder (e.g. a recipe's refined-encoder/) on
    0.1%, 1%, 10% and 100% of the task's training data (scitail_001, scitail_01, scitail_1,
    scitail); writes adaptation.md and adaptation.json.

    \b
    Example:
      mtdnn glue adapt --task scitail --data-dir data/ --encoder runs/recipe/refined-encoder --out runs/adapt
    """
    from mtdnn_glue.recipe import run_adaptation

    base, progress = _base(options)
    _check_out(out_dir, "--out", [("--data-dir", base.get("data_dir")), ("--encoder", base.get("encoder"))])
    shares = [float(x) for x in fractions.split(",") if x]
    run_adaptation(task, base, Path(out_dir), shares, epochs, ["glue"], progress=progress, log=click.echo)
    click.echo((Path(out_dir) / "adaptation.md").read_text())
