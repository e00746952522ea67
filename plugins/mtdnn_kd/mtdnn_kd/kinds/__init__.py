"""Soft-target rules per task type: how a teacher's raw outputs become soft targets, how
teachers are averaged, and how a student's outputs are paired with the targets of its batch.

The kinds are keyed by the core's task-type names; a task type without a rule here (a plugin's
span extraction, say) is refused with a clear error rather than distilled wrongly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from mtdnn_kd.errors import SoftLabelError


@dataclass
class Pairing:
    """A batch's student outputs beside their soft targets, one position per row (classification,
    regression, ranking) or per word (sequence labeling)."""

    student: torch.Tensor  # [P, K] logits, or [P] values
    soft: torch.Tensor  # [P, K] the teachers' mean probabilities, or [P] their mean values
    logits: torch.Tensor | None  # [P, K] the teachers' mean logits; None when the file has none
    valid: torch.Tensor | None  # [P, K] real entries (a ranking sample's real candidates)
    sample: torch.Tensor  # [P] the batch row of each position


class SoftKind:
    """Base class; subclasses set ``task_type`` and ``discrete`` and implement the methods."""

    task_type: str = ""
    #: soft targets are distributions (predictions are classes) rather than values
    discrete: bool = True

    # -- teaching ------------------------------------------------------------------------
    def collector(self, temperature: float) -> Any:
        """Collects one teacher's targets of a dataset: ``add(rows, outputs)``, then ``targets``
        (uid -> dict of NumPy arrays)."""
        raise NotImplementedError

    def average(self, targets: list[dict]) -> dict:
        """The ensemble's target of one sample from its teachers' targets."""
        raise NotImplementedError

    def predictions(self, targets: list[dict]) -> list:
        """Predictions of samples' targets, flattened (one per word for sequence labeling)."""
        raise NotImplementedError

    def ensemble_output(self, reference: dict, averaged: dict[str, dict]) -> dict:
        """A decoder-shaped output (uids, predictions, scores, golds) of the ensemble, laid out
        like ``reference`` (a teacher's decoder output on the same dataset) for the metrics."""
        raise NotImplementedError

    def gold(self, row: dict) -> Any:
        """The gold label of a feature row (for people reading the soft-label file)."""
        return row.get("label")

    def input_record(self, row: dict) -> tuple[str, Any]:
        """(key, value) identifying the inputs a teacher saw for this row."""
        from mtdnn_kd.fingerprint import input_fingerprint

        return "input", input_fingerprint([row["input_ids"]])

    def to_json(self, target: dict) -> dict:
        return {key: _rounded(value) for key, value in target.items()}

    def from_json(self, entry: dict, where: str) -> dict:
        """A target read back from a soft-label line (NumPy arrays)."""
        raise NotImplementedError

    def read_entry(self, entry: dict, where: str) -> dict:
        """A soft-label line as the student side uses it: the target and the input fingerprint."""
        return {**self.from_json(entry, where), "input": entry.get("input"), "windows": entry.get("windows")}

    # -- training ------------------------------------------------------------------------
    def pair(self, outputs: torch.Tensor, batch: dict, entries: list[dict | None], check_inputs: bool) -> Pairing:
        """Pair a batch's student outputs with the targets of the rows that have one."""
        raise NotImplementedError


def read_numbers(entry: dict, key: str, ndim: int, where: str, required: bool = True):
    """A list (``ndim`` 1) or list of lists (2) of finite numbers from a soft-label line."""
    import numpy as np

    value = entry.get(key)
    if value is None and not required:
        return None
    shape = "a list" if ndim == 1 else "a list of per-word lists"
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != ndim or not np.isfinite(arr).all():
        raise SoftLabelError(f"{where}: '{key}' must be {shape} of finite numbers")
    return arr


#: how far a row of soft probabilities may sum from 1 (the file keeps 6 decimals)
SUM_TOLERANCE = 1e-3


def read_distribution(entry: dict, ndim: int, where: str):
    """``soft`` probabilities: numbers in [0, 1] whose row (each word's row for ``ndim`` 2) sums
    to 1. Anything else would turn the KL loss into NaN or a wrong target, not an error."""
    import numpy as np

    soft = read_numbers(entry, "soft", ndim, where)
    rows = soft.reshape(-1, soft.shape[-1]) if soft.size else soft.reshape(0, 1)
    if (soft < 0).any() or (soft > 1 + SUM_TOLERANCE).any():
        bad = float(soft[(soft < 0) | (soft > 1 + SUM_TOLERANCE)].flat[0])
        raise SoftLabelError(f"{where}: 'soft' holds {bad:g}, not a probability (each must lie in [0, 1]); "
                             f"write probabilities, not logits (those go under 'logits')")
    sums = rows.astype(np.float64).sum(axis=-1)
    off = np.flatnonzero(np.abs(sums - 1.0) > SUM_TOLERANCE)
    if off.size:
        which = f"word {int(off[0])}'s " if ndim == 2 else ""
        raise SoftLabelError(f"{where}: {which}'soft' probabilities sum to {sums[off[0]]:.6g}, not 1 (tolerance "
                             f"{SUM_TOLERANCE:g}); each row must be a probability distribution")
    return soft


def _rounded(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return np.round(value.astype(np.float64), 6).tolist()
    if isinstance(value, float):
        return round(value, 6)
    return value


def check_input(entry: dict, batch: dict, row: int, uid: str) -> None:
    """Refuse a row whose token ids differ from those the teachers saw."""
    from mtdnn_kd.fingerprint import batch_row_ids, input_fingerprint

    compare_fingerprint(entry, input_fingerprint([batch_row_ids(batch, row)]), uid)


def compare_fingerprint(entry: dict, seen: str, uid: str) -> None:
    if entry.get("input") is None:
        raise SoftLabelError(f"uid {uid}: the soft label has no input fingerprint ('input'); set check_inputs: false "
                             f"to use soft labels written without one")
    if seen != entry["input"]:
        raise SoftLabelError(mismatch_message(uid))


def mismatch_message(uid: str) -> str:
    return (f"uid {uid}: the student's token ids differ from those the teachers saw (other text, another "
            f"tokenizer or another --max-seq-len); rerun `mtdnn kd teach` with the student's data, encoder and "
            f"--max-seq-len, or set check_inputs: false to distill across tokenizers")


def kind_for(task_type: str) -> SoftKind:
    """The soft-target rule of a (canonical) task-type name."""
    from mtdnn_kd.kinds.classes import CandidateKind, ClassKind
    from mtdnn_kd.kinds.tags import TagKind
    from mtdnn_kd.kinds.values import ValueKind

    kinds = {k.task_type: k for k in (ClassKind(), CandidateKind(), ValueKind(), TagKind())}
    if task_type not in kinds:
        raise SoftLabelError(f"task type '{task_type}' has no soft-label rule in mtdnn-kd; distillation works for "
                             f"{', '.join(sorted(kinds))}")
    return kinds[task_type]
