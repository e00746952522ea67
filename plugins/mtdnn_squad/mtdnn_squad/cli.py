"""``mtdnn squad ...``: download SQuAD, score a predictions file by the official rules."""
from __future__ import annotations

import json
from pathlib import Path

import math

import click


def _finite(ctx, param, value):
    """A number option must be finite: NaN compares false with everything and inf hides all."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number", ctx=ctx, param=param)
    return value


@click.group()
def squad():
    """Extractive question answering: SQuAD 1.1 (task squad) and 2.0 (task squadv2).

    \b
    Data:     mtdnn squad download --target squad_data/
    Train:    mtdnn train --plugin squad --data-dir squad_data/ --tasks squadv2
    Joint:    mtdnn train --plugin squad --plugin glue --data-dir squadv2=squad_data/ --data-dir GLUE_DIR --tasks squadv2,rte
    Predict:  mtdnn predict --checkpoint RUN --task squadv2 --data questions.json
    Score:    mtdnn squad evaluate dev-v2.0.json RUN/scores/squadv2_dev.epoch2.predictions.json \\
                  --na-prob-file RUN/scores/squadv2_dev.epoch2.null_odds.json
    Threshold: mtdnn squad threshold PREFIX.nbest_predictions.json PREFIX.null_odds.json --threshold -1.5
    """


@squad.command()
@click.option("--version", "versions", multiple=True, type=click.Choice(["1.1", "2.0"]), default=("1.1", "2.0"),
              show_default=True, help="SQuAD version (repeatable).")
@click.option("--target", required=True, type=click.Path(file_okay=False), help="Directory for the JSON files.")
@click.option("--mirror", default=None, help="Base URL of a mirror holding the same file names.")
@click.option("--checksums", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A SHA256SUMS file to verify against instead of the pinned official checksums.")
def download(versions, target, mirror, checksums):
    """Download the official train and dev files, verify their sha256, resume partial downloads.

    \b
    Example:
      mtdnn squad download --version 2.0 --target squad_data/
    """
    from mtdnn_core.api import TRAIN_RUN_MARKERS, check_output, read_checksums
    from mtdnn_squad.download import download_squad

    check_output(target, [("--checksums", checksums)], option="--target", directory=True, foreign=TRAIN_RUN_MARKERS)
    sums = read_checksums(Path(checksums).read_text()) if checksums else None
    done = download_squad(list(versions), Path(target), mirror, sums, log=click.echo)
    click.echo(f"{len(done)} file(s) in {target}; train with: mtdnn train --plugin squad --data-dir {target} --tasks squadv2")


@squad.command()
@click.argument("data", type=click.Path(exists=True, dir_okay=False))
@click.argument("predictions", type=click.Path(exists=True, dir_okay=False))
@click.option("--na-prob-file", "-n", type=click.Path(exists=True, dir_okay=False), default=None,
              help="SQuAD 2.0: no-answer scores per question (mtdnn's null_odds.json); adds the best thresholds.")
@click.option("--na-prob-thresh", "-t", type=float, default=None, callback=_finite,
              help="SQuAD 2.0: answer '' where the no-answer score exceeds this (as the official script; default "
                   "1.0; without --na-prob-file every score is 0).")
@click.option("--version", type=click.Choice(["auto", "1.1", "2.0"]), default="auto", show_default=True,
              help="Which official rules; auto: 2.0 when the file has unanswerable questions or says v2.")
@click.option("--out-file", "-o", type=click.Path(dir_okay=False), default=None, help="Also write the JSON here.")
@click.option("--out-image-dir", "-p", type=click.Path(file_okay=False), default=None,
              help="SQuAD 2.0, with --na-prob-file: add the official precision-recall analysis (pr_*_ap) and write its "
                   "figures (pr_exact.png, pr_f1.png, pr_oracle.png, na_prob_hist_*.png) here.")
def evaluate(data, predictions, na_prob_file, na_prob_thresh, version, out_file, out_image_dir):
    """Score PREDICTIONS (question id -> answer text) against a SQuAD DATA file with the official
    1.1 or 2.0 rules; prints the official JSON.

    \b
    Example:
      mtdnn squad evaluate dev-v2.0.json predictions.json --na-prob-file null_odds.json
    """
    from mtdnn_core.api import atomic_write_text, check_output
    from mtdnn_squad.scoring import score_file

    if out_file:
        check_output(out_file, [("DATA", data), ("PREDICTIONS", predictions), ("--na-prob-file", na_prob_file)],
                     option="--out-file")
    if out_image_dir:
        check_output(out_image_dir, [("DATA", data), ("PREDICTIONS", predictions), ("--na-prob-file", na_prob_file)],
                     option="--out-image-dir", directory=True)
    result, notes = score_file(Path(data), Path(predictions), Path(na_prob_file) if na_prob_file else None,
                               na_prob_thresh, version, Path(out_image_dir) if out_image_dir else None)
    for note in notes:
        click.echo(note, err=True)
    text = json.dumps(result, indent=2)
    click.echo(text)
    if out_file:
        atomic_write_text(out_file, text + "\n")


@squad.command()
@click.argument("nbest", type=click.Path(exists=True, dir_okay=False))
@click.argument("null_odds", type=click.Path(exists=True, dir_okay=False))
@click.option("--threshold", type=float, required=True, callback=_finite, help="Answer '' where the null odds exceed this.")
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Predictions file to write (default: beside NBEST, .predictions-at-THRESHOLD.json).")
def threshold(nbest, null_odds, threshold, output):
    """SQuAD 2.0: predictions at another null threshold, from a run's n-best and null-odds files
    (e.g. the squad_v2_best_f1_thresh found on dev, applied to test predictions).

    \b
    Example:
      mtdnn squad threshold scores/squadv2_dev.epoch2.nbest_predictions.json \\
          scores/squadv2_dev.epoch2.null_odds.json --threshold -1.5
    """
    from mtdnn_core.api import atomic_write_json, check_default_output, check_output
    from mtdnn_squad.outputs import apply_threshold
    from mtdnn_squad.scoring import read_mapping

    name = Path(nbest).name
    base = name.removesuffix(".nbest_predictions.json") if name.endswith(".nbest_predictions.json") else Path(nbest).stem
    target = Path(output) if output else check_default_output(
        Path(nbest).with_name(f"{base}.predictions-at-{threshold:g}.json"), "--output")
    check_output(target, [("NBEST", nbest), ("NULL_ODDS", null_odds)], option="--output")
    answers = apply_threshold(read_mapping(Path(nbest), list, "a list of candidates"),
                              read_mapping(Path(null_odds), (int, float), "a number"), threshold, source=nbest)
    atomic_write_json(target, answers)
    empty = sum(1 for a in answers.values() if not a)
    click.echo(f"{len(answers)} predictions ({empty} without an answer) written to {target}")
