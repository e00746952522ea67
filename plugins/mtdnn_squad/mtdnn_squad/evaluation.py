"""The official SQuAD evaluation rules, for 1.1 and 2.0.

Answers are compared after normalisation (lower case, punctuation removed, the articles a/an/the
removed, whitespace collapsed); a question scores the best exact match and the best token F1
over its gold answers. The two official scripts differ in small ways that are kept here:

* 1.1: every gold answer counts; an F1 with no common token is 0 (also for empty strings).
* 2.0: gold answers that normalise to nothing are dropped, and a question without gold answers
  has the single gold answer ``""`` (no answer); F1 is 1 when both sides are empty. Results are
  split into ``HasAns``/``NoAns``; with no-answer scores ("null odds"), the thresholds that
  would maximise exact match and F1 are searched as the official ``find_all_best_thresh`` does.

Questions without a prediction score 0 and are counted in ``missing`` (the official 1.1 script
scores them 0; the 2.0 script would drop them from the totals and then fail).
"""
from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

from mtdnn_core.api import DataError

PUNCTUATION = frozenset(string.punctuation)
ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text: str) -> str:
    """Lower case, drop punctuation, then articles, then collapse whitespace (official order)."""
    text = "".join(ch for ch in text.lower() if ch not in PUNCTUATION)
    return " ".join(ARTICLES.sub(" ", text).split())


def exact_match(gold: str, prediction: str) -> int:
    return int(normalize_answer(gold) == normalize_answer(prediction))


def _overlap_f1(gold_tokens: list[str], pred_tokens: list[str]) -> float:
    same = sum((Counter(gold_tokens) & Counter(pred_tokens)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def f1_v1(gold: str, prediction: str) -> float:
    """SQuAD 1.1 token F1."""
    return _overlap_f1(normalize_answer(gold).split(), normalize_answer(prediction).split())


def f1_v2(gold: str, prediction: str) -> float:
    """SQuAD 2.0 token F1: when either side is empty, 1 if both are, else 0."""
    gold_tokens, pred_tokens = normalize_answer(gold).split(), normalize_answer(prediction).split()
    if not gold_tokens or not pred_tokens:
        return float(gold_tokens == pred_tokens)
    return _overlap_f1(gold_tokens, pred_tokens)


def evaluate_v1(golds: Sequence[Sequence[str]], predictions: Sequence[str | None]) -> dict[str, float]:
    """``{"exact_match", "f1"}`` (x100) as the official 1.1 script; ``None`` predictions are missing."""
    total = len(golds)
    em = f1 = 0.0
    missing = 0
    for answers, prediction in zip(golds, predictions):
        if prediction is None:
            missing += 1
            continue
        if not answers:
            raise DataError("SQuAD 1.1 scoring needs at least one gold answer per question; "
                             "for unanswerable questions use the SQuAD 2.0 rules (squad_v2_* metrics)")
        em += max(exact_match(a, prediction) for a in answers)
        f1 += max(f1_v1(a, prediction) for a in answers)
    result = {"exact_match": 100.0 * em / total if total else 0.0, "f1": 100.0 * f1 / total if total else 0.0}
    if missing:
        result["missing"] = missing
    return result


def raw_scores_v2(golds: Sequence[Sequence[str]], predictions: Sequence[str | None]) -> tuple[list[float], list[float]]:
    """Per-question exact match and F1 under the 2.0 rules (0 for a missing prediction)."""
    exact, f1 = [], []
    for answers, prediction in zip(golds, predictions):
        kept = [a for a in answers if normalize_answer(a)] or [""]
        if prediction is None:
            exact.append(0.0)
            f1.append(0.0)
            continue
        exact.append(float(max(exact_match(a, prediction) for a in kept)))
        f1.append(max(f1_v2(a, prediction) for a in kept))
    return exact, f1


def _summary(exact: list[float], f1: list[float], rows: list[int]) -> tuple[float, float, int]:
    total = len(rows)
    return 100.0 * sum(exact[i] for i in rows) / total, 100.0 * sum(f1[i] for i in rows) / total, total


def best_threshold(predictions: Sequence[str | None], scores: list[float], null_odds: Sequence[float],
                   has_answer: list[bool], odds_order: Sequence[int] | None = None) -> tuple[float, float]:
    """The official ``find_best_thresh``: start from "no answer everywhere", then accept the
    predictions in increasing order of their null odds; return the best total (x100) and the
    null-odds value where it is reached. Equal null odds are taken in ``odds_order`` (each
    question's position in the null-odds file: the official script sorts that file's entries
    with a stable sort), by default in the questions' order."""
    current = best = sum(1 for has in has_answer if not has)
    threshold = 0.0
    order = range(len(scores)) if odds_order is None else odds_order
    for i in sorted(range(len(scores)), key=lambda k: (null_odds[k], order[k])):
        if has_answer[i]:
            current += scores[i]
        elif predictions[i]:
            current -= 1
        if current > best:
            best, threshold = current, null_odds[i]
    return 100.0 * best / len(scores), threshold


def precision_recall(scores: Sequence[float], null_odds: Sequence[float], has_answer: Sequence[bool],
                     odds_order: Sequence[int] | None = None) -> tuple[float, list[float], list[float]]:
    """The official ``make_precision_recall_eval``: answerable questions are the positives; the
    questions are ranked by increasing null odds (ties as in :func:`best_threshold`), each
    contributing its score to the true positives; a point of the curve is taken only where the
    next question's null odds differ (where a threshold could fall). Returns the average
    precision (x100) and the curve's precisions and recalls."""
    positives = sum(1 for has in has_answer if has)
    order = range(len(scores)) if odds_order is None else odds_order
    ranked = sorted(range(len(scores)), key=lambda k: (null_odds[k], order[k]))
    true_pos, average = 0.0, 0.0
    precisions, recalls = [1.0], [0.0]
    for rank, i in enumerate(ranked):
        if has_answer[i]:
            true_pos += scores[i]
        precision, recall = true_pos / (rank + 1), true_pos / positives
        if rank == len(ranked) - 1 or null_odds[i] != null_odds[ranked[rank + 1]]:
            average += precision * (recall - recalls[-1])
            precisions.append(precision)
            recalls.append(recall)
    return 100.0 * average, precisions, recalls


def precision_recall_curves(golds: Sequence[Sequence[str]], predictions: Sequence[str | None], null_odds: Sequence[float],
                            odds_order: Sequence[int] | None = None) -> dict[str, tuple[float, list[float], list[float]]]:
    """The official script's three curves (``--out-image-dir``): exact match, F1 and the oracle
    (1 for every answerable question); none when no question is answerable."""
    has_answer = [bool(answers) for answers in golds]
    if not any(has_answer):
        return {}
    exact, f1 = raw_scores_v2(golds, predictions)
    oracle = [float(has) for has in has_answer]
    return {name: precision_recall(scores, null_odds, has_answer, odds_order)
            for name, scores in (("pr_exact", exact), ("pr_f1", f1), ("pr_oracle", oracle))}


def evaluate_v2(golds: Sequence[Sequence[str]], predictions: Sequence[str | None],
                null_odds: Sequence[float] | None = None, na_prob_thresh: float | None = None,
                odds_order: Sequence[int] | None = None) -> dict[str, float]:
    """The official 2.0 results: ``exact, f1, total``, ``HasAns_*``, ``NoAns_*`` and, given null
    odds, ``best_exact(_thresh)`` and ``best_f1(_thresh)`` (ties: see :func:`best_threshold`).
    With ``na_prob_thresh`` (the official script's ``--na-prob-thresh``, default there 1.0), a
    question whose null odds exceed it counts as answered "no answer"; without null odds every
    question's are 0, as in the official script (so a threshold below 0 answers nothing).
    ``None`` scores the predictions as they are."""
    exact, f1 = raw_scores_v2(golds, predictions)
    has_answer = [bool(answers) for answers in golds]
    exact_t, f1_t = list(exact), list(f1)
    if na_prob_thresh is not None:
        for i, odds in enumerate(null_odds if null_odds is not None else [0.0] * len(golds)):
            if odds > na_prob_thresh:
                exact_t[i] = f1_t[i] = float(not has_answer[i])
    rows = list(range(len(golds)))
    result: dict[str, float] = {}
    result["exact"], result["f1"], result["total"] = _summary(exact_t, f1_t, rows) if rows else (0.0, 0.0, 0)
    for name, wanted in (("HasAns", True), ("NoAns", False)):
        subset = [i for i in rows if has_answer[i] == wanted]
        if subset:
            values = _summary(exact_t, f1_t, subset)
            result[f"{name}_exact"], result[f"{name}_f1"], result[f"{name}_total"] = values
    if null_odds is not None and rows:
        result["best_exact"], result["best_exact_thresh"] = best_threshold(predictions, exact, null_odds, has_answer, odds_order)
        result["best_f1"], result["best_f1_thresh"] = best_threshold(predictions, f1, null_odds, has_answer, odds_order)
    missing = sum(1 for p in predictions if p is None)
    if missing:
        result["missing"] = missing
    return result
