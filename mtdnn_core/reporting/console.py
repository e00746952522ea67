"""One line per evaluation on the console: each dataset's main metric, its value and the best
value so far (through the ``mtdnn.train`` logger, so ``-q`` silences it)."""
from __future__ import annotations

import logging

from mtdnn_core.config import task_of_dataset

LOGGER = logging.getLogger("mtdnn.train")


class EvaluationLine:
    """Remembers each dataset's best main-metric value and formats an evaluation as one line."""

    def __init__(self, first_metrics: dict[str, str], higher_is_better: dict[str, bool]):
        self.first_metrics = first_metrics
        self.higher_is_better = higher_is_better
        self.best: dict[str, float] = {}

    def _better(self, metric: str, value: float, best: float | None) -> bool:
        if best is None:
            return True
        return value > best if self.higher_is_better.get(metric, True) else value < best

    def add(self, step: int, epoch: int, results: dict[str, dict]) -> str:
        parts = []
        for dataset, metrics in results.items():
            metric = self.first_metrics.get(task_of_dataset(dataset))
            value = metrics.get(metric) if metric else None
            if not isinstance(value, (int, float)):
                continue
            if self._better(metric, value, self.best.get(dataset)):
                self.best[dataset] = value
            parts.append(f"{dataset} {metric} {value:.4g} (best {self.best[dataset]:.4g})")
        return f"eval step {step} epoch {epoch}: " + ("; ".join(parts) or "no labelled dev sets")

    def replay(self, history: list[dict]) -> None:
        for record in history:
            self.add(record["step"], record["epoch"], record["metrics"])
