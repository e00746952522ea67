"""Scoring a predictions file against a SQuAD data file, as the official scripts do."""
from __future__ import annotations

import json
import math
from pathlib import Path

from mtdnn_core.api import DataError
from mtdnn_squad.evaluation import evaluate_v1, evaluate_v2, precision_recall_curves
from mtdnn_squad.reader import load_json, read_squad


def read_mapping(path: Path, kind: type | tuple[type, ...], what: str) -> dict:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise DataError(f"{path}: expected a JSON object of question id -> {what}")
    for key, item in value.items():
        if not isinstance(item, kind) or isinstance(item, bool):
            raise DataError(f"{path}: question {key}: expected {what}, got {type(item).__name__}")
        if isinstance(item, float) and not math.isfinite(item):
            raise DataError(f"{path}: question {key}: {item} is not a finite number")
    return value


def detect_version(path: Path, examples) -> str:
    declared = str(load_json(path).get("version", ""))
    return "2.0" if declared.startswith("v2") or any(e.is_impossible for e in examples) else "1.1"


#: the official 2.0 script's ``--na-prob-thresh`` default
DEFAULT_NA_PROB_THRESH = 1.0


def score_file(data: Path, predictions: Path, na_prob_file: Path | None = None, na_prob_thresh: float | None = None,
               version: str = "auto", image_dir: Path | None = None) -> tuple[dict, list[str]]:
    """The official result for a predictions file, and notes on missing or unknown question ids.
    ``na_prob_thresh`` ``None``: the official default (SQuAD 2.0 only). ``image_dir`` (with a
    na-prob file): the official precision-recall analysis, its figures written there."""
    if image_dir is not None and na_prob_file is None:
        raise DataError("--out-image-dir needs --na-prob-file (the figures rank the questions by their no-answer scores)")
    if na_prob_thresh is not None and not math.isfinite(na_prob_thresh):
        raise DataError(f"--na-prob-thresh: {na_prob_thresh} is not a finite number")
    examples = read_squad(data)
    if any(not e.labeled for e in examples):
        raise DataError(f"{data}: the questions have no gold answers; nothing to score against")
    if version == "auto":
        version = detect_version(data, examples)
    preds = read_mapping(predictions, str, "an answer text")
    ids = [e.uid for e in examples]
    notes = []
    missing = [uid for uid in ids if uid not in preds]
    if missing:
        notes.append(f"{len(missing)} question(s) without a prediction score 0 (e.g. {missing[0]})")
    unknown = set(preds) - set(ids)
    if unknown:
        notes.append(f"{len(unknown)} prediction(s) for question ids not in {data} were ignored (e.g. {sorted(unknown)[0]})")
    golds = [[a.text for a in e.answers] for e in examples]
    answers = [preds.get(uid) for uid in ids]
    if version == "1.1":
        if na_prob_file:
            raise DataError("--na-prob-file applies to SQuAD 2.0 only (use --version 2.0)")
        if na_prob_thresh is not None:
            raise DataError("--na-prob-thresh applies to SQuAD 2.0 only (use --version 2.0)")
        if image_dir is not None:
            raise DataError("--out-image-dir applies to SQuAD 2.0 only (use --version 2.0)")
        return evaluate_v1(golds, answers), notes
    odds = order = None
    if na_prob_file:
        table = read_mapping(na_prob_file, (int, float), "a number")
        lacking = [uid for uid in ids if uid not in table]
        if lacking:
            raise DataError(f"{na_prob_file}: no no-answer score for {len(lacking)} question(s), e.g. {lacking[0]}")
        odds = [table[uid] for uid in ids]
        position = {uid: i for i, uid in enumerate(table)}  # equal scores: the file's order decides
        order = [position[uid] for uid in ids]
    thresh = DEFAULT_NA_PROB_THRESH if na_prob_thresh is None else na_prob_thresh
    result = evaluate_v2(golds, answers, odds, thresh, order)
    if image_dir is not None:
        from mtdnn_squad.figures import write_figures

        curves = precision_recall_curves(golds, answers, odds, order)
        result.update({f"{name}_ap": ap for name, (ap, _, _) in curves.items()})
        written = write_figures(image_dir, curves, odds, [bool(g) for g in golds])
        notes.append(f"{len(written)} figure(s) written to {image_dir}")
    return result, notes
