"""SQuAD metrics: the official 1.1 and 2.0 numbers (already x100, so ``scale`` is 1).

Metric inputs (from the span task types): golds are each question's gold answer texts (empty for
"no answer"), predictions the answer texts, scores the null odds (SQuAD 2.0 only).
"""
from __future__ import annotations

from mtdnn_core.api import Metric, MtdnnError
from mtdnn_squad.evaluation import evaluate_v1, evaluate_v2

V2_KEYS = {  # metric suffix -> key of the official 2.0 result
    "exact": "exact", "f1": "f1", "has_ans_exact": "HasAns_exact", "has_ans_f1": "HasAns_f1",
    "no_ans_exact": "NoAns_exact", "no_ans_f1": "NoAns_f1", "best_exact": "best_exact",
    "best_exact_thresh": "best_exact_thresh", "best_f1": "best_f1", "best_f1_thresh": "best_f1_thresh",
}


def _v1_report(golds, preds, scores=None) -> dict:
    return evaluate_v1(list(golds), list(preds))


def _v1(key: str):
    def fn(golds, preds, scores=None) -> float:
        return evaluate_v1(list(golds), list(preds))[key]

    return fn


def _v2_report(golds, preds, scores=None) -> dict:
    return evaluate_v2(list(golds), list(preds), None if scores is None else scores.tolist())


def _v2(key: str):
    def fn(golds, preds, scores=None) -> float | None:
        if scores is None and key.startswith("best"):
            raise MtdnnError(f"squad_v2_{key} needs the null odds of a SQuAD 2.0 task (task type span_v2)")
        # None where the official result has no such entry (HasAns/NoAns of a set without such questions)
        return _v2_report(golds, preds, scores).get(key)

    return fn


def metrics() -> list[tuple[Metric, tuple[str, ...]]]:
    """Every SQuAD metric with its aliases (the original toolkit's EmF1 and EmF12 are reports)."""
    out = [
        (Metric("squad_em", _v1("exact_match"), scale=1, description="SQuAD 1.1 exact match"), ("EM",)),
        (Metric("squad_f1", _v1("f1"), scale=1, description="SQuAD 1.1 token F1"), ()),
        (Metric("squad_report", _v1_report, scale=1, description="SQuAD 1.1 exact match and F1"), ("EmF1",)),
        (Metric("squad_v2_report", _v2_report, scale=1, description="every number of the official SQuAD 2.0 script"),
         ("EmF12",)),
    ]
    for suffix, key in V2_KEYS.items():
        out.append((Metric(f"squad_v2_{suffix}", _v2(key), scale=1, description=f"SQuAD 2.0 {key}"), ()))
    return out
