"""Regression: one real value per input (STS-B similarity)."""
from __future__ import annotations

import math

from mtdnn_core.errors import DataError
from mtdnn_core.task_types import Decoder, TaskType


class ValueDecoder(Decoder):
    """The head's single output per row is both the prediction and the score."""

    def __init__(self):
        self.uids, self.predictions, self.golds = [], [], []

    def add(self, rows, batch, outputs):
        self.uids.extend(batch["uids"])
        self.golds.extend(r.get("label") for r in rows)
        self.predictions.extend(outputs.float().view(-1).tolist())

    def result(self):
        return {"uids": self.uids, "predictions": self.predictions, "scores": list(self.predictions), "golds": self.golds}


class Regression(TaskType):
    name = "regression"
    formats = ("PremiseOnly", "PremiseAndOneHypothesis")
    default_head = "pooler"
    default_loss = "mse"
    default_metrics = ("pearson", "spearman")
    compares_outputs = True

    def comparison_rows(self, outputs, batch):
        """The predicted values (compared with mse, the default ``adv_loss`` of regression)."""
        return outputs

    def default_n_class(self, task):
        return 1

    def check(self, task):
        return [] if task.n_class == 1 else [f"n_class: a regression predicts one value, not {task.n_class}"]

    def parse_label(self, raw, task, where):
        raw = raw.strip()
        if raw == "":
            return None
        try:
            value = float(raw)
        except ValueError:
            raise DataError(f"{where}: column 'label': '{raw}' is not a number (task '{task.name}' is a regression)") from None
        if not math.isfinite(value):
            raise DataError(f"{where}: column 'label': '{raw}' is not a finite number (task '{task.name}')")
        return value

    def label_tensor(self, labels):
        import torch

        return torch.tensor(labels, dtype=torch.float)

    def decoder(self, task, head):
        return ValueDecoder()
