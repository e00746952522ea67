"""Metrics, computed by scikit-learn and SciPy (imported on first use, so the CLI starts fast).

A :class:`Metric` takes ``(golds, preds, scores)``: gold labels, predicted labels and the
model's scores (class probabilities, regression values, per-token losses). Values are reported
x100 as the original toolkit does, except where ``scale`` is 1 (confusion matrix, losses).
``higher_is_better`` tells best-checkpoint selection and early stopping which way is up.
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
    higher_is_better: bool = True

    def __call__(self, golds, preds, scores=None):
        value = self.fn(np.asarray(golds), np.asarray(preds), None if scores is None else np.asarray(scores))
        if isinstance(value, (float, np.floating, int, np.integer)):
            return float(value) * self.scale
        return value

    def __post_init__(self):
        if not callable(self.fn):
            raise TypeError("Metric.fn must be callable")


def accuracy(golds, preds, scores=None) -> float:
    if not len(golds):  # scikit-learn refuses empty input; an empty dev set scores 0
        return 0.0
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(golds, preds))


def confusion_matrix(golds, preds, scores=None, n_classes: int | None = None) -> list[list[int]]:
    """Rows gold, columns predicted, one row and column per class id 0..n-1 (also classes that
    never occur, which scikit-learn's default labels would drop)."""
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    n = int(max(golds.max(initial=0), preds.max(initial=0)) + 1) if n_classes is None else n_classes
    return sk_confusion_matrix(golds.astype(int), preds.astype(int), labels=np.arange(n)).tolist()


def f1_binary(golds, preds, scores=None) -> float:
    """F1 of the positive class (label 1), also when other labels occur."""
    from sklearn.metrics import f1_score

    return float(f1_score(golds, preds, labels=[1], average="micro", zero_division=0.0))


def f1_macro(golds, preds, scores=None) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(golds, preds, average="macro", zero_division=0.0))


def f1_micro(golds, preds, scores=None) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(golds, preds, average="micro", zero_division=0.0))


def matthews_corrcoef(golds, preds, scores=None) -> float:
    """Multi-class MCC (Gorodkin 2004); 0 when a single class occurs (scikit-learn's answer too,
    without its warning about the confusion matrix's shape)."""
    if len(np.union1d(golds, preds)) < 2:
        return 0.0
    from sklearn.metrics import matthews_corrcoef as sk_mcc

    return float(sk_mcc(golds, preds))


def _constant(values: np.ndarray) -> bool:
    return len(values) < 2 or bool(np.all(values == values.flat[0]))


def pearson(golds, preds, scores=None) -> float:
    """Pearson correlation; 0 (not SciPy's NaN and warning) when either side is constant, so a
    collapsed regression head reads as "no correlation" in tables and early stopping."""
    if _constant(golds) or _constant(preds):
        return 0.0
    from scipy.stats import pearsonr

    return float(pearsonr(golds.astype(np.float64), preds.astype(np.float64))[0])


def rankdata(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties get the mean of the ranks they span (SciPy's ``rankdata``)."""
    from scipy.stats import rankdata as sp_rankdata

    return sp_rankdata(values)


def spearman(golds, preds, scores=None) -> float:
    """Spearman rank correlation; 0 when either side is constant (as :func:`pearson`)."""
    if _constant(golds) or _constant(preds):
        return 0.0
    from scipy.stats import spearmanr

    return float(spearmanr(golds, preds)[0])


def roc_auc(golds, preds, scores=None) -> float:
    """Binary ROC AUC from the positive-class score; NaN when only one class occurs."""
    if scores is None:
        raise ValueError("AUC needs scores")
    positive = scores[:, 1] if scores.ndim == 2 else scores
    if len(np.unique(golds == 1)) < 2:
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(golds == 1, positive))


def token_accuracy(golds, preds, scores=None) -> float:
    """Accuracy over flattened word-level labels (sequence labeling)."""
    golds = np.concatenate([np.asarray(g) for g in golds]) if golds.dtype == object else golds.ravel()
    preds = np.concatenate([np.asarray(p) for p in preds]) if preds.dtype == object else preds.ravel()
    return accuracy(golds, preds)


def mean_loss(golds, preds, scores=None) -> float:
    """Mean of per-token negative log-likelihoods (the ``scores`` of a masked-LM evaluation)."""
    if scores is None or not len(scores):
        return float("nan")
    return float(np.mean(scores))


def perplexity(golds, preds, scores=None) -> float:
    """``exp`` of the mean negative log-likelihood."""
    return float(np.exp(mean_loss(golds, preds, scores)))


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
    "token_accuracy": (Metric("token_accuracy", token_accuracy, description="word-level accuracy"), ["NERACC"]),
    "mlm_loss": (Metric("mlm_loss", mean_loss, scale=1, higher_is_better=False,
                        description="masked-LM loss: mean negative log-likelihood of the masked tokens"), ["MlmLoss"]),
    "perplexity": (Metric("perplexity", perplexity, scale=1, higher_is_better=False,
                          description="exp of the masked-LM loss"), ["Perplexity", "PPL"]),
    "mlm_accuracy": (Metric("mlm_accuracy", accuracy, description="share of masked tokens predicted exactly"), []),
}
