"""Prediction files in the formats of the official SQuAD tools, beside each score file:
``PREFIX.predictions.json`` (id -> answer text, "" for no answer), ``PREFIX.nbest_predictions.json``
(id -> candidates with text, probability, start_logit, end_logit) and, for SQuAD 2.0,
``PREFIX.null_odds.json`` (id -> null score - best span score: the official script's
``--na-prob-file``)."""
from __future__ import annotations

from pathlib import Path

from mtdnn_core.io import atomic_write_json


def write_squad_predictions(output: dict, prefix: Path) -> list[Path]:
    prefix = Path(prefix)
    written = [Path(f"{prefix}.predictions.json"), Path(f"{prefix}.nbest_predictions.json")]
    atomic_write_json(written[0], dict(zip(output["uids"], output["predictions"])))
    atomic_write_json(written[1], output["nbest"])
    if "null_odds" in output:
        written.append(Path(f"{prefix}.null_odds.json"))
        atomic_write_json(written[2], output["null_odds"])
    return written
