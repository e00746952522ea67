"""Accuracy of each scorer, and the majority-class baseline beside them.

They read the ``[N, 3]`` predictions (hybrid, LM, similarity) that the ``candidate_choice``
task type hands to metrics as scores.
"""
from __future__ import annotations

import numpy as np

from mtdnn_core.api import Metric, MtdnnError, accuracy

COLUMNS = {"hybrid_accuracy": 0, "lm_accuracy": 1, "sim_accuracy": 2}


def _scorer_accuracy(column: int):
    def fn(golds, preds, scores=None):
        if scores is None or scores.ndim != 2 or scores.shape[1] != 3:
            raise MtdnnError("per-scorer accuracies need a candidate_choice task's predictions")
        return accuracy(golds, scores[:, column])

    return fn


def majority_baseline(golds, preds=None, scores=None) -> float:
    """Accuracy of always predicting the most frequent gold value (answer position or label)."""
    if not len(golds):
        return 0.0
    _, counts = np.unique(golds, return_counts=True)
    return float(counts.max() / len(golds))


METRICS = [Metric(name, _scorer_accuracy(column), description=f"accuracy of the {name.split('_')[0]} scorer")
           for name, column in COLUMNS.items()]
METRICS.append(Metric("majority_baseline", majority_baseline, description="accuracy of the most frequent gold value"))
