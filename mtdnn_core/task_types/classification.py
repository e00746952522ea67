"""Classification: one label per input (text or pair), softmax over classes."""
from __future__ import annotations

from typing import Any

from mtdnn_core.errors import DataError
from mtdnn_core.task_types import Decoder, TaskType


def parse_class_label(raw: str, task: Any, where: str) -> int | None:
    """A class name (or its index) to a class id; unknown labels are errors, never None."""
    raw = raw.strip()
    if raw == "":
        return None
    mapping = task.label_to_id
    if mapping is not None:
        if raw in mapping:
            return mapping[raw]
        if raw.lstrip("-").isdigit() and 0 <= int(raw) < len(mapping):
            return int(raw)
        raise DataError(f"{where}: column 'label': unknown label '{raw}' for task '{task.name}'; known labels: {', '.join(mapping)}")
    if not raw.lstrip("-").isdigit():  # '1.7' is no class id; int(float()) would quietly make it 1
        raise DataError(
            f"{where}: column 'label': '{raw}' is not a class id (a whole number) and task '{task.name}' lists no "
            f"labels (add `labels:` to its definition)"
        )
    value = int(raw)
    if not 0 <= value < (task.n_class or 1):
        raise DataError(f"{where}: column 'label': class id {value} is outside 0..{task.n_class - 1} for task '{task.name}'")
    return value


class SoftmaxDecoder(Decoder):
    """Class probabilities per row; the prediction is the most probable class."""

    def __init__(self):
        self.uids, self.predictions, self.scores, self.golds = [], [], [], []

    def add(self, rows, batch, outputs):
        import torch

        probs = torch.softmax(outputs.float(), dim=-1)
        self.uids.extend(batch["uids"])
        self.golds.extend(r.get("label") for r in rows)
        self.predictions.extend(probs.argmax(-1).tolist())
        self.scores.extend([[round(p, 6) for p in row] for row in probs.tolist()])

    def result(self):
        return {"uids": self.uids, "predictions": self.predictions, "scores": self.scores, "golds": self.golds}


class Classification(TaskType):
    name = "classification"
    formats = ("PremiseOnly", "PremiseAndOneHypothesis")
    default_head = "pooler"
    default_loss = "ce"
    default_metrics = ("accuracy",)
    compares_outputs = True

    def comparison_rows(self, outputs, batch):
        """Class logits, a row per sample."""
        return outputs

    def default_n_class(self, task):
        return len(task.labels) if task.labels else 2

    def parse_label(self, raw, task, where):
        return parse_class_label(raw, task, where)

    def decoder(self, task, head):
        return SoftmaxDecoder()

    def readable(self, task, output):
        if not task.labels:
            return list(output["predictions"])
        return [task.labels[i] for i in output["predictions"]]
