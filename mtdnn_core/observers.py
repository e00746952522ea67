"""Typed payloads of the observer hooks, and the protocol a reporter follows.

``on_step_end``, ``on_train_begin``, ``on_log`` and ``on_train_end`` receive one of these
objects, so an observer reads ``state.loss`` with a type a checker knows instead of guessing
dictionary keys. ``on_evaluate`` keeps its plain arguments (``dataset, epoch, step, metrics``).

Reading a payload like a dict (``state["loss"]``, ``record.get("event")``, ``"lr" in state``)
still works in API 1.x and warns (``DeprecationWarning``); it goes away in API 2.0.
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from mtdnn_core.reporting import RunInfo


class Payload:
    """Base of the payloads: dataclass fields, plus the deprecated dict-style reading."""

    @classmethod
    def of(cls, values: dict[str, Any]) -> Any:
        """The payload of a dict with its fields (keys it does not know are left out)."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in values.items() if k in names})

    def as_dict(self) -> dict[str, Any]:
        """The payload as the plain dict earlier versions passed (a shallow copy)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def _mapping(self) -> dict[str, Any]:
        return self.as_dict()

    def _deprecated(self, how: str) -> None:
        warnings.warn(f"{type(self).__name__}: reading it as a dict ({how}) is deprecated since mtdnn API 1.0 "
                      f"and goes away in 2.0; use its attributes", DeprecationWarning, stacklevel=3)

    def __getitem__(self, key: str) -> Any:
        self._deprecated(f"[{key!r}]")
        return self._mapping()[key]

    def get(self, key: str, default: Any = None) -> Any:
        self._deprecated(f".get({key!r})")
        return self._mapping().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._deprecated(f"{key!r} in ...")
        return key in self._mapping()

    def keys(self):
        self._deprecated(".keys()")
        return self._mapping().keys()


@dataclass(frozen=True)
class StepState(Payload):
    """``on_step_end``: a finished optimizer update."""

    step: int  # updates done
    epoch: int
    task: str  # of the update's last batch
    loss: float  # mean loss of the update's batches, regularizer terms included (every rank's
    # rows under torchrun); NaN when no batch of the update had a finite loss
    lr: float  # of the first parameter group, after the update
    grad_norm: float | None = None  # before clipping; None without clipping


@dataclass(frozen=True)
class RunStart(Payload):
    """``on_train_begin``: a run starts (after a resume has restored its state)."""

    output_dir: str
    config: dict[str, Any]  # the run's TrainConfig as a dict
    tasks: list[str]
    step: int  # 0, or where a resumed run continues
    total_steps: int


@dataclass(frozen=True)
class LogRecord(Payload):
    """``on_log``: one record of the run's log, exactly what ``log.jsonl`` holds (``data``)."""

    event: str  # "train", "eval" or "resume"
    step: int
    data: dict[str, Any] = field(default_factory=dict)  # the whole record, event and step included

    @classmethod
    def of(cls, record: dict[str, Any]) -> LogRecord:
        return cls(event=str(record.get("event", "")), step=int(record.get("step", 0)), data=dict(record))

    def _mapping(self) -> dict[str, Any]:
        return self.data


@dataclass(frozen=True)
class TrainSummary(Payload):
    """``on_train_end``: what the run did (also written as ``summary.json``)."""

    step: int
    epoch: int
    output_dir: str
    history: list[dict[str, Any]]  # every evaluation: step, epoch, metrics per dataset
    nonfinite_skipped: int = 0
    metric_for_best: str | None = None
    best_step: int | None = None  # None: no best checkpoint (no metric_for_best, or never scored)
    best_value: float | None = None
    stopped_early: bool = False

    def _mapping(self) -> dict[str, Any]:
        shown = self.as_dict()
        if self.metric_for_best is None:  # the keys earlier versions had without metric_for_best
            for key in ("metric_for_best", "best_step", "best_value", "stopped_early"):
                shown.pop(key)
        return shown


class Reporter(Protocol):
    """A reporter class (``register_reporters``): built once per run that lists its name in
    ``report_to`` as ``cls(run)``; its ``@hookimpl`` methods (``on_train_begin``,
    ``on_step_end``, ``on_log``, ``on_evaluate``, ``on_train_end``, any of them) observe that
    run only, and ``close()``, if the class has one, runs when the run ends, also after an
    error. Reporters need not subclass this; it tells a type checker what the core calls."""

    def __init__(self, run: RunInfo) -> None: ...

    def close(self) -> None: ...


__all__ = ["Payload", "StepState", "RunStart", "LogRecord", "TrainSummary", "Reporter"]
