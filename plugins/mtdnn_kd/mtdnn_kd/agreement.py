"""How much the teachers agree: the share of predictions on which all of them agree and the
mean pairwise agreement (classes, candidates, word tags), or the mean pairwise Pearson
correlation and the mean spread (regression); and each teacher's agreement with the ensemble."""
from __future__ import annotations

from itertools import combinations

import numpy as np


def discrete_agreement(per_teacher: list[list], ensemble: list) -> dict:
    preds = np.asarray(per_teacher)
    ens = np.asarray(ensemble)
    pairs = [float(np.mean(preds[a] == preds[b])) * 100 for a, b in combinations(range(len(preds)), 2)]
    return {
        "predictions": int(preds.shape[1]),
        "unanimous": float(np.mean(np.all(preds == preds[0], axis=0))) * 100,
        "pairwise": float(np.mean(pairs)) if pairs else None,
        "with_ensemble": [float(np.mean(p == ens)) * 100 for p in preds],
    }


def value_agreement(per_teacher: list[list], ensemble: list) -> dict:
    values = np.asarray(per_teacher, dtype=np.float64)
    ens = np.asarray(ensemble, dtype=np.float64)
    pairs = [_pearson(values[a], values[b]) for a, b in combinations(range(len(values)), 2)]
    return {
        "predictions": int(values.shape[1]),
        "pairwise_pearson": float(np.mean(pairs)) * 100 if pairs else None,
        "mean_spread": float(np.mean(values.std(axis=0))),
        "with_ensemble_pearson": [_pearson(v, ens) * 100 for v in values],
    }


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def agreement(kind, per_teacher: list[list], ensemble: list) -> dict:
    """Agreement statistics for a kind's (flattened) predictions."""
    return discrete_agreement(per_teacher, ensemble) if kind.discrete else value_agreement(per_teacher, ensemble)
