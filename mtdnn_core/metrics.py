"""Metrics, written out in NumPy (tests check each against scikit-learn / SciPy).

A :class:`Metric` takes ``(golds, preds, scores)``: gold labels, predicted labels and the
model's scores (class probabilities, regression values). Values are reported x100 as the
original toolkit does, except where ``scale`` is 1 (confusion matrix).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[[np.ndarray, np.ndarray, np.ndarray | None], Any]
    scale: float = 100.0
    description: str = ""

    def __call__(self, golds, preds, scores=None):
        value = self.fn(np.asarray(golds), np.asarray(preds), None if scores is None else np.asarray(scores))
        if isinstance(value, (float, np.floating, int, np.integer)):
            return float(value) * self.scale
        return value

    def __post_init__(self):
        if not callable(self.fn):
            raise TypeError("Metric.fn must be callable")


def accuracy(golds, preds, scores=None) -> float:
    return float(np.mean(golds == preds)) if len(golds) else 0.0


def confusion_matrix(golds, preds, scores=None, n_classes: int | None = None) -> list[list[int]]:
    n = int(max(golds.max(initial=0), preds.max(initial=0)) + 1) if n_classes is None else n_classes
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (golds.astype(int), preds.astype(int)), 1)
    return matrix.tolist()


def _prf(tp: float, fp: float, fn: float) -> float:
    denom = 2 * tp + fp + fn
    return 0.0 if denom == 0 else 2 * tp / denom


def f1_binary(golds, preds, scores=None) -> float:
    """F1 of the positive class (label 1)."""
    tp = np.sum((golds == 1) & (preds == 1))
    fp = np.sum((golds != 1) & (preds == 1))
    fn = np.sum((golds == 1) & (preds != 1))
    return _prf(tp, fp, fn)


def f1_macro(golds, preds, scores=None) -> float:
    classes = np.union1d(golds, preds)
    return float(np.mean([
        _prf(np.sum((golds == c) & (preds == c)), np.sum((golds != c) & (preds == c)), np.sum((golds == c) & (preds != c)))
        for c in classes
    ]))


def f1_micro(golds, preds, scores=None) -> float:
    classes = np.union1d(golds, preds)
    tp = sum(np.sum((golds == c) & (preds == c)) for c in classes)
    fp = sum(np.sum((golds != c) & (preds == c)) for c in classes)
    fn = sum(np.sum((golds == c) & (preds != c)) for c in classes)
    return _prf(tp, fp, fn)


def matthews_corrcoef(golds, preds, scores=None) -> float:
    """Multi-class MCC (Gorodkin 2004) from the confusion matrix."""
    c = np.asarray(confusion_matrix(golds, preds), dtype=np.float64)
    t, p = c.sum(1), c.sum(0)
    n, correct = c.sum(), np.trace(c)
    denom = np.sqrt((n * n - p @ p) * (n * n - t @ t))
    return 0.0 if denom == 0 else float((correct * n - t @ p) / denom)


def pearson(golds, preds, scores=None) -> float:
    x = golds.astype(np.float64) - golds.mean()
    y = preds.astype(np.float64) - preds.mean()
    denom = np.sqrt((x @ x) * (y @ y))
    return 0.0 if denom == 0 else float(x @ y / denom)


def rankdata(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties get the mean of the ranks they span."""
    values = np.asarray(values)
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_vals = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_vals[end] != sorted_vals[start]:
            ranks[order[start:end]] = (start + end + 1) / 2.0
            start = end
    return ranks


def spearman(golds, preds, scores=None) -> float:
    return pearson(rankdata(golds), rankdata(preds))


def roc_auc(golds, preds, scores=None) -> float:
    """Binary ROC AUC from the positive-class score (Mann-Whitney U with tie correction)."""
    if scores is None:
        raise ValueError("AUC needs scores")
    positive = scores[:, 1] if scores.ndim == 2 else scores
    ranks = rankdata(positive)
    n_pos = int(np.sum(golds == 1))
    n_neg = len(golds) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks[golds == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def token_accuracy(golds, preds, scores=None) -> float:
    """Accuracy over flattened word-level labels (sequence labeling)."""
    golds = np.concatenate([np.asarray(g) for g in golds]) if golds.dtype == object else golds.ravel()
    preds = np.concatenate([np.asarray(p) for p in preds]) if preds.dtype == object else preds.ravel()
    return accuracy(golds, preds)


BUILTIN_METRICS = {
    "accuracy": (Metric("accuracy", accuracy, description="share of exact matches"), ["ACC", "acc"]),
    "f1": (Metric("f1", f1_binary, description="F1 of the positive class"), ["F1"]),
    "f1_macro": (Metric("f1_macro", f1_macro, description="unweighted mean of per-class F1"), ["F1MAC"]),
    "f1_micro": (Metric("f1_micro", f1_micro, description="F1 over all decisions"), ["F1MIC"]),
    "mcc": (Metric("mcc", matthews_corrcoef, description="Matthews correlation"), ["MCC"]),
    "pearson": (Metric("pearson", pearson, description="Pearson correlation"), ["Pearson"]),
    "spearman": (Metric("spearman", spearman, description="Spearman rank correlation"), ["Spearman"]),
    "auc": (Metric("auc", roc_auc, description="ROC AUC of the positive class"), ["AUC"]),
    "confusion_matrix": (Metric("confusion_matrix", confusion_matrix, scale=1, description="rows gold, columns predicted"), ["CMAT"]),
    "token_accuracy": (Metric("token_accuracy", token_accuracy, description="word-level accuracy"), []),
}
