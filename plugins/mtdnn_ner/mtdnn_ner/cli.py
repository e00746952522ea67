"""``mtdnn ner ...``: sequence-labeling commands."""
from __future__ import annotations

import json
from pathlib import Path

import click


@click.group()
def ner():
    """Sequence labeling on CoNLL-style files (NER, POS, chunking).

    \b
    Train:    mtdnn train --plugin ner --data-dir CONLL_DIR --tasks ner,pos,chunk
    Joint:    mtdnn train --plugin ner --plugin glue --data-dir ner=CONLL_DIR --data-dir GLUE_DIR --tasks ner,rte
    Label:    mtdnn predict --plugin ner --checkpoint RUN --task ner --data new.conll
    """


@ner.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False))
@click.option("--column", type=int, required=True, help="Column holding the tags (0 = words).")
@click.option("--scheme", type=click.Choice(["iob1", "iob2", "bioes"]), default=None, help="Tag scheme of the column.")
@click.option("--to", "target_scheme", type=click.Choice(["iob1", "iob2", "bioes"]), default=None, help="Convert tags to this scheme.")
def convert(source, target, column, scheme, target_scheme):
    """Convert a CoNLL-style column file to mtdnn's canonical Sequence TSV (uid, tags, words).

    \b
    Example:
      mtdnn ner convert eng.train ner_train.tsv --column 3 --scheme iob1 --to iob2
    """
    from mtdnn_core.api import atomic_write_text, check_output
    from mtdnn_ner.conll import read_conll
    from mtdnn_ner.schemes import convert as convert_tags

    check_output(target, [("SOURCE", source)], option="TARGET")
    lines = []
    for n, sentence in enumerate(read_conll(source)):
        tags = sentence.column(column)
        if target_scheme:
            tags = convert_tags(tags, scheme or "iob2", target_scheme)
        lines.append(f"{Path(source).stem}-{n}\t{json.dumps(tags)}\t{json.dumps(sentence.column(0))}")
    atomic_write_text(target, "\n".join(lines) + "\n")
    click.echo(f"{len(lines)} sentences -> {target}")


@ner.command()
@click.argument("predictions", type=click.Path(exists=True, dir_okay=False))
@click.option("--strict", is_flag=True, help="Strict IOB2 chunks instead of conlleval's reading.")
def evaluate(predictions, strict):
    """Score a CoNLL predictions file (word, gold, predicted: last two columns) per entity type.

    \b
    Example:
      mtdnn ner evaluate runs/ner/scores/ner_dev.epoch2.conll
    """
    from mtdnn_ner.conll import read_conll
    from mtdnn_ner.entities import report
    from mtdnn_ner.outputs import format_table

    sentences = read_conll(predictions)
    table = report([s.column(-2) for s in sentences], [s.column(-1) for s in sentences], strict=strict)
    click.echo(format_table(table), nl=False)
