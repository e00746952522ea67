"""Entity-level precision, recall and F1 for tag sequences (CoNLL evaluation).

Two ways to read chunks, as the seqeval library offers: the default, conlleval-compatible one
(an ``I-X`` after ``O`` or another type still starts a chunk) and the strict IOB2 one (only
``B-X`` starts a chunk; stray ``I-X`` tokens are ignored). Tags may be IOB1, IOB2 or BIOES in
the default mode.
"""
from __future__ import annotations

from collections import defaultdict


def _parts(tag: str) -> tuple[str, str]:
    if tag == "O" or "-" not in tag:
        return "O", ""
    prefix, kind = tag.split("-", 1)
    return prefix, kind


def _ends(prev: str, tag: str, prev_kind: str, kind: str) -> bool:
    return (
        prev in ("E", "S")
        or (prev in ("B", "I") and tag in ("B", "S", "O"))
        or (prev != "O" and prev_kind != kind)
    )


def _starts(prev: str, tag: str, prev_kind: str, kind: str) -> bool:
    return (
        tag in ("B", "S")
        or (prev in ("E", "S", "O") and tag in ("E", "I"))
        or (tag != "O" and prev_kind != kind)
    )


def entities(tags: list[str], strict: bool = False) -> set[tuple[str, int, int]]:
    """Chunks of one sentence as ``(type, first token, last token)``."""
    if strict:
        return _strict_entities(tags)
    found, start = set(), None
    prev, prev_kind = "O", ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, kind = _parts(tag)
        if start is not None and _ends(prev, prefix, prev_kind, kind):
            found.add((prev_kind, start, i - 1))
            start = None
        if _starts(prev, prefix, prev_kind, kind):
            start = i
        prev, prev_kind = prefix, kind
    return found


def _strict_entities(tags: list[str]) -> set[tuple[str, int, int]]:
    found, start, current = set(), None, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, kind = _parts(tag)
        if start is not None and not (prefix == "I" and kind == current):
            found.add((current, start, i - 1))
            start = None
        if prefix == "B":
            start, current = i, kind
    return found


def report(golds: list[list[str]], preds: list[list[str]], strict: bool = False) -> dict[str, dict[str, float]]:
    """Per-type and overall (micro) precision, recall, F1 (x100) and support."""
    counts = defaultdict(lambda: [0, 0, 0])  # true positives, predicted, gold
    for gold, pred in zip(golds, preds):
        g, p = entities(list(gold), strict), entities(list(pred), strict)
        for kind, *_ in g:
            counts[kind][2] += 1
        for kind, *_ in p:
            counts[kind][1] += 1
        for kind, *_ in g & p:
            counts[kind][0] += 1
    table = {kind: _prf(*c) for kind, c in sorted(counts.items())}
    table["overall"] = _prf(*(sum(c[i] for c in counts.values()) for i in range(3)))
    return table


def _prf(tp: int, predicted: int, gold: int) -> dict[str, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": 100 * precision, "recall": 100 * recall, "f1": 100 * f1, "support": gold}
