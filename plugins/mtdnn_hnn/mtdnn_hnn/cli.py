"""``mtdnn hnn ...``: evaluation of HNN models and a look at the data files."""
from __future__ import annotations

from pathlib import Path

import click


@click.group()
def hnn():
    """HNN: Winograd-style pronoun resolution with a masked-LM scorer and a semantic-similarity
    scorer over one shared encoder (arXiv 1907.11983).

    \b
    Train (the encoder needs a masked-LM head; see `mtdnn alum pretrain`):
      mtdnn train --plugin hnn --data-dir HNN_DATA --tasks dprd,hnnwnli --encoder MLM_ENCODER
    Zero-shot transfer of the trained model, and of an untrained masked LM:
      mtdnn hnn evaluate --checkpoint runs/hnn --data-dir HNN_DATA --tasks wsc273,pdp60,hnnwnli
      mtdnn hnn evaluate --encoder MLM_ENCODER --data-dir HNN_DATA --tasks wsc273,pdp60,hnnwnli
    Tasks: dprd (train, test), wsc273, wsc285 (WSCollection.xml), pdp60, hnnwnli (train, dev, test).
    HNN_DATA is laid out as shipped: DPRD/, PDP/, WNLI/, WSC273/.
    """


def _key_values(values: tuple[str, ...]) -> dict:
    import yaml

    from mtdnn_core.api import load_yaml

    out = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"'{item}': expected KEY=VALUE", param_hint="--head-config")
        key, raw = item.split("=", 1)
        try:
            out[key.strip()] = load_yaml(raw, f"--head-config {key.strip()}")  # alias expansion bounded
        except yaml.YAMLError as exc:
            raise click.BadParameter(f"'{item}': the value is not valid YAML ({getattr(exc, 'problem', exc)})",
                                     param_hint="--head-config") from None
    return out


@hnn.command()
@click.option("--checkpoint", type=click.Path(exists=True), default=None, help="A run directory or checkpoint (trained HNN).")
@click.option("--encoder", default=None, help="Instead of a checkpoint: an encoder with a masked-LM head (untrained HNN).")
@click.option("--tasks", default="wsc273,pdp60,hnnwnli", show_default=True, help="Comma-separated HNN tasks.")
@click.option("--data-dir", required=True, type=click.Path(exists=True, file_okay=False), help="HNN data as shipped.")
@click.option("--output-dir", type=click.Path(file_okay=False), default=None,
              help="Where scores/ and metrics.json go (default: CHECKPOINT/hnn-eval, or hnn-eval/).")
@click.option("--head-from", default=None, help="Which trained task's head scores the tasks (default: the first).")
@click.option("--head-config", "head_config", multiple=True, metavar="KEY=VALUE",
              help="With --encoder: head options, e.g. --head-config similarity=cosine.")
@click.option("--splits", default=None, help="Comma-separated splits (default: every split but train).")
@click.option("--max-samples", type=click.IntRange(min=1), default=None, help="Only the first N items of each dataset.")
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--max-seq-len", type=click.IntRange(min=1), default=None, help="Default: the task's (128).")
@click.option("--device", default="cpu", show_default=True)
@click.option("--num-threads", type=int, default=None)
@click.option("--plugin", "plugins", multiple=True, help="More plugins to load.")
@click.option("--overwrite", is_flag=True,
              help="Replace an earlier evaluation's metrics.json in --output-dir (never a training run's).")
def evaluate(checkpoint, encoder, tasks, data_dir, output_dir, head_from, head_config, splits, max_samples,
             batch_size, max_seq_len, device, num_threads, plugins, overwrite):
    """Accuracy of the LM scorer, the similarity scorer and their combination on HNN tasks.

    \b
    Example:
      mtdnn hnn evaluate --checkpoint runs/hnn --data-dir ../shared/data/hnn --tasks wsc273,pdp60,hnnwnli
    """
    import torch

    from mtdnn_core.api import TRAIN_RUN_MARKERS, PluginHost, check_output, read_meta, resolve_checkpoint
    from mtdnn_hnn.evaluation import HEADER, EvalRequest, evaluate as run, require_known

    default_out = Path(checkpoint) / "hnn-eval" if checkpoint else Path("hnn-eval")
    check_output(output_dir or default_out, [("--data-dir", data_dir), ("--encoder", encoder)], option="--output-dir",
                 overwrite=overwrite, directory=True, own=("metrics.json",), foreign=(*TRAIN_RUN_MARKERS, "state.json"))
    # beside the run's own files (the default CHECKPOINT/hnn-eval) is fine; the run itself is not
    check_output(output_dir or default_out, [("--checkpoint", checkpoint)], option="--output-dir", directory=True,
                 allow_inside=True)
    if num_threads:
        torch.set_num_threads(num_threads)
    names = [t.strip() for t in tasks.split(",") if t.strip()]
    loaded = ["hnn", *plugins]
    if checkpoint:
        loaded = [*read_meta(resolve_checkpoint(checkpoint)).get("plugins", []), *loaded]
    host = PluginHost(list(dict.fromkeys(loaded)))
    require_known(host, names)
    request = EvalRequest(tasks=names, data_dir=Path(data_dir), output_dir=Path(output_dir) if output_dir else default_out,
                          checkpoint=Path(checkpoint) if checkpoint else None, encoder=encoder, head_from=head_from,
                          head_config=_key_values(head_config), splits=splits.split(",") if splits else None,
                          max_samples=max_samples, batch_size=batch_size, max_seq_len=max_seq_len, device=device)
    click.echo(HEADER)
    run(request, host, log=click.echo)
    click.echo(f"files: {request.output_dir}/scores/, {request.output_dir}/metrics.json")


@hnn.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--rows", type=click.IntRange(min=0), default=3, show_default=True,
              help="How many items to print (0: only the count).")
def show(path, rows):
    """Read a Winograd-style file and print its first ROWS items as parsed (a check of the layout).

    \b
    Example:
      mtdnn hnn show ../shared/data/hnn/WSC273/WSCollection.xml
    """
    from mtdnn_hnn.readers import read_schemas

    schemas = read_schemas(path)
    click.echo(f"{len(schemas)} item(s) in {path}")
    for schema in schemas[:rows]:
        marked = f"{schema.sentence[: schema.pronoun_start]}[{schema.pronoun}]{schema.sentence[schema.pronoun_end :]}"
        click.echo(f"\n{schema.where}  uid {schema.uid}\n  {marked}")
        for i, candidate in enumerate(schema.candidates):
            if schema.hypothesis is None:
                mark = " <- answer" if schema.label == i else ""
            else:
                mark = f" <- hypothesis, label {schema.label}" if schema.hypothesis == i else ""
            click.echo(f"  {i}. {candidate}{mark}")
