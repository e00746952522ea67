"""Prediction files in the formats of the official SQuAD tools, beside each score file:
``PREFIX.predictions.json`` (id -> answer text, "" for no answer), ``PREFIX.nbest_predictions.json``
(id -> candidates with text, probability, start_logit, end_logit) and, for SQuAD 2.0,
``PREFIX.null_odds.json`` (id -> null score - best span score: the official script's
``--na-prob-file``).

:func:`apply_threshold` turns the n-best and null-odds files into predictions at another null
threshold, in both directions (the n-best list keeps the best span of every question): choose
the threshold on dev, apply it to test predictions without running the model again."""
from __future__ import annotations

import json
from pathlib import Path

from mtdnn_core.api import atomic_write_json


def write_squad_predictions(output: dict, prefix: Path) -> list[Path]:
    prefix = Path(prefix)
    written = [Path(f"{prefix}.predictions.json"), Path(f"{prefix}.nbest_predictions.json")]
    atomic_write_json(written[0], dict(zip(output["uids"], output["predictions"])))
    atomic_write_json(written[1], output["nbest"])
    if "null_odds" in output:
        written.append(Path(f"{prefix}.null_odds.json"))
        atomic_write_json(written[2], output["null_odds"])
    return written


def apply_threshold(nbest: dict[str, list[dict]], null_odds: dict[str, float], threshold: float,
                    source: str = "the n-best file") -> dict[str, str]:
    """Question id -> answer: the best non-empty n-best text, or "" where the null odds exceed
    ``threshold`` (or no span was found). A candidate that is not an object with a ``text``
    string is an error naming it: skipping it would change the answer silently."""
    from mtdnn_core.api import DataError

    missing = [uid for uid in nbest if uid not in null_odds]
    if missing:
        raise DataError(f"no null odds for {len(missing)} question(s) of {source}, e.g. {missing[0]}")
    answers = {}
    for uid, entries in nbest.items():
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
                raise DataError(f"{source}: question {uid}: candidate {i} is not an object with a \"text\" string "
                                f"(got {json.dumps(entry)[:80]})")
        best = next((e["text"] for e in entries if e["text"]), "")
        answers[uid] = "" if null_odds[uid] > threshold else best
    return answers
