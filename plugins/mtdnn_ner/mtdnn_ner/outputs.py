"""Readable outputs of a sequence-labeling evaluation."""
from __future__ import annotations

from pathlib import Path

from mtdnn_core.api import atomic_write_text
from mtdnn_ner.entities import report


def write_conll_predictions(task, output: dict, prefix: Path) -> None:
    labels = task.labels or []
    name = (lambda i: labels[i]) if labels else str  # noqa: E731
    lines, golds, preds = [], [], []
    for words, gold, pred in zip(output["words"], output["golds"], output["predictions"]):
        gold_tags = [name(t) for t in gold] if gold is not None else ["-"] * len(words)
        pred_tags = [name(t) for t in pred]
        lines.extend(f"{w} {g} {p}" for w, g, p in zip(words, gold_tags, pred_tags))
        lines.append("")
        golds.append(gold_tags)
        preds.append(pred_tags)
    atomic_write_text(Path(f"{prefix}.conll"), "\n".join(lines) + "\n")
    if all(g is not None for g in output["golds"]) and any(t.startswith("B-") for t in labels):
        atomic_write_text(Path(f"{prefix}.types.tsv"), format_table(report(golds, preds)))


def format_table(table: dict[str, dict[str, float]]) -> str:
    rows = ["type\tprecision\trecall\tf1\tsupport"]
    rows += [f"{k}\t{v['precision']:.2f}\t{v['recall']:.2f}\t{v['f1']:.2f}\t{v['support']}" for k, v in table.items()]
    return "\n".join(rows) + "\n"
