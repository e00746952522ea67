"""Which evaluation is the best so far, and when to stop early.

``metric_for_best`` is ``TASK:METRIC`` (the metric on the task's dev set, e.g. ``rte:accuracy``),
``DATASET:METRIC`` (``mnli_mismatched:accuracy``) or ``mean``: the mean over tasks of each task's
first metric, a lower-is-better metric (a loss) entering with its sign flipped. Scores are
oriented so that higher is always better. Early stopping ends a run after ``patience``
evaluations in a row without a strict improvement. The tracker's state is a function of the
metric history alone, so a resumed run rebuilds it by replaying ``metrics.json``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mtdnn_core.errors import ConfigError, MtdnnError, did_you_mean
from mtdnn_core.io import atomic_write_json

BEST = "best.json"
MEAN = "mean"


@dataclass(frozen=True)
class Criterion:
    """How one evaluation (``{dataset: {metric: value}}``) becomes one score."""

    spec: str
    first_metrics: dict[str, str]  # task -> name of its first metric
    higher_is_better: dict[str, bool]  # metric name -> direction (missing: higher is better)

    @classmethod
    def parse(cls, spec: str, first_metrics: dict[str, str], higher_is_better: dict[str, bool],
              computes: dict[str, list[str]] | None = None) -> Criterion:
        """Check ``spec`` against the run's tasks and metrics before training starts; with
        ``computes`` (each dev/test set the run scores -> the metrics it computes there), also
        that the named dataset is scored and computes the named metric, so a run never trains
        towards a number it will not have."""
        spec = spec.strip()
        if spec != MEAN:
            target, sep, metric = spec.partition(":")
            if not sep or not target or not metric:
                raise ConfigError([f"metric_for_best: '{spec}' is neither 'mean' nor TASK:METRIC (e.g. TASK:accuracy)"],
                                  "metric_for_best")
            task = target.split("_", 1)[0]
            if task not in first_metrics:
                raise ConfigError([f"metric_for_best: '{target}' is not one of the run's tasks"
                                   f"{did_you_mean(target, [*first_metrics, *(computes or {})])} "
                                   f"({', '.join(first_metrics)})"], "metric_for_best")
            if computes is not None:
                _check_computed(spec, target, task, metric, computes)
        elif computes is not None:
            unscored = [t for t in first_metrics if not any(d.split("_", 1)[0] == t for d in computes)]
            if unscored:
                raise ConfigError([f"metric_for_best: 'mean' needs a dev/test set of every task; none for "
                                   f"{', '.join(unscored)}; add one or name a task (TASK:METRIC)"], "metric_for_best")
        return cls(spec, dict(first_metrics), dict(higher_is_better))

    def _oriented(self, metric: str, value: Any) -> float | None:
        if not isinstance(value, (int, float)) or value != value:  # NaN never counts as best
            return None
        return float(value) if self.higher_is_better.get(metric, True) else -float(value)

    @staticmethod
    def _dataset_of(task: str, evaluation: dict[str, dict], metric: str) -> str | None:
        """The task's dev set (``TASK_dev``), else its first dataset scored with ``metric``."""
        candidates = [d for d, m in evaluation.items() if (d == task or d.split("_", 1)[0] == task) and metric in m]
        preferred = [d for d in candidates if d == f"{task}_dev"]
        return (preferred or candidates or [None])[0]

    def score(self, evaluation: dict[str, dict]) -> float | None:
        """The evaluation's score (higher is better), or None when it lacks the metric."""
        if self.spec == MEAN:
            values = []
            for task, metric in self.first_metrics.items():
                dataset = self._dataset_of(task, evaluation, metric)
                value = None if dataset is None else self._oriented(metric, evaluation[dataset][metric])
                if value is None:
                    return None
                values.append(value)
            return sum(values) / len(values) if values else None
        target, _, metric = self.spec.partition(":")
        dataset = target if target in evaluation else self._dataset_of(target, evaluation, metric)
        if dataset is None or metric not in evaluation[dataset]:
            return None
        return self._oriented(metric, evaluation[dataset][metric])

    def value(self, score: float) -> float:
        """A score in the metric's own terms (a loss positive again)."""
        if self.spec != MEAN and not self.higher_is_better.get(self.spec.partition(":")[2], True):
            return -score
        return score

    def shown(self, score: float | None) -> str:
        """A score as people read it."""
        return "-" if score is None else f"{self.value(score):.4g}"


def _check_computed(spec: str, target: str, task: str, metric: str, computes: dict[str, list[str]]) -> None:
    if target in computes:
        datasets = [target]
    elif target == task:
        datasets = [d for d in computes if d.split("_", 1)[0] == task]
        if not datasets:
            raise ConfigError([f"metric_for_best: '{spec}': the run scores no dev/test set of task '{task}' "
                               f"(scored: {', '.join(computes) or 'none'}); add its dev file or name another task"],
                              "metric_for_best")
    else:
        raise ConfigError([f"metric_for_best: '{spec}': '{target}' is not a dev/test set of this run"
                           f"{did_you_mean(target, computes)} (scored: {', '.join(computes) or 'none'})"],
                          "metric_for_best")
    available = list(dict.fromkeys(m for d in datasets for m in computes[d]))
    if metric not in available:
        raise ConfigError([f"metric_for_best: '{spec}': '{target}' does not compute '{metric}'"
                           f"{did_you_mean(metric, available)} (its metrics: {', '.join(available) or 'none'}; "
                           f"e.g. {target}:{available[0] if available else 'METRIC'})"], "metric_for_best")


@dataclass
class Decision:
    score: float | None
    improved: bool
    best_score: float | None
    best_step: int | None
    stop: bool


class BestTracker:
    """Follows the scores of successive evaluations: the best one and, with ``patience``, when
    ``patience`` evaluations in a row brought no improvement."""

    def __init__(self, criterion: Criterion, patience: int | None = None):
        self.criterion = criterion
        self.patience = patience
        self.best_score: float | None = None
        self.best_step: int | None = None
        self.since_best = 0

    def update(self, step: int, evaluation: dict[str, dict]) -> Decision:
        score = self.criterion.score(evaluation)
        improved = score is not None and (self.best_score is None or score > self.best_score)
        if improved:
            self.best_score, self.best_step, self.since_best = score, step, 0
        elif score is not None or self.best_score is not None:
            self.since_best += 1
        stop = self.patience is not None and self.since_best >= self.patience
        return Decision(score, improved, self.best_score, self.best_step, stop)

    def replay(self, history: list[dict]) -> None:
        """Rebuild the state from a run's metric history (``metrics.json`` records)."""
        for record in history:
            self.update(record["step"], record["metrics"])


def write_best(output_dir: Path, checkpoint: str, step: int, criterion: Criterion, score: float) -> None:
    atomic_write_json(Path(output_dir) / BEST, {"checkpoint": checkpoint, "step": step, "metric_for_best": criterion.spec,
                                                "value": criterion.value(score)})


def best_checkpoint_name(output_dir: Path) -> str | None:
    """The checkpoint ``best.json`` points at (never pruned), if any."""
    path = Path(output_dir) / BEST
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("checkpoint")


def split_best(spec: str | Path) -> tuple[Path, bool]:
    """``RUN:best`` -> (RUN, True); anything else -> (path, False)."""
    text = str(spec)
    if text.endswith(":best"):
        return Path(text[: -len(":best")]), True
    return Path(text), False


def resolve_best(run_dir: str | Path) -> Path:
    """The best checkpoint of a run directory, with a clear error when it has none."""
    run_dir = Path(run_dir)
    name = best_checkpoint_name(run_dir)
    if name is None:
        raise MtdnnError(f"{run_dir}: no {BEST} (train with --metric-for-best TASK:METRIC or 'mean' to keep the best checkpoint)")
    if not (run_dir / name).is_dir():
        raise MtdnnError(f"{run_dir / BEST} points at {name}, which does not exist")
    return run_dir / name
