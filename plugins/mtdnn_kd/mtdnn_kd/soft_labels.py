"""Soft labels on disk: a directory a person can read.

::

    manifest.json         teachers, temperature, tokenizer fingerprint, and per task its type,
                          labels, teachers and, per split, the data file's SHA-256
    <task>.<split>.jsonl  one line per sample: {"uid", "soft", "logits", "label", "input"}
    report.json/.md       teacher agreement, each teacher's dev score and the ensemble's

``soft`` is the teachers' mean probabilities at the manifest's temperature (a list per word for
sequence labeling; the mean value for regression), ``logits`` their mean raw logits, ``label``
the gold label (for reading only), ``input`` a fingerprint of the token ids the teachers saw
(``windows``: [first word, fingerprint] of each window of a long sentence). The manifest is
written last, so a directory without one is incomplete.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mtdnn_core.api import ConfigError, TaskDef, atomic_write_json, atomic_write_text
from mtdnn_kd.errors import SoftLabelError
from mtdnn_kd.kinds import kind_for

FORMAT = "mtdnn-kd-soft-labels"
MANIFEST = "manifest.json"


class SplitRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str = Field(description="the soft-label file, relative to the directory")
    source: str = Field(description="the canonical data file the teachers read")
    sha256: str = Field(description="that file's SHA-256")
    rows: int = Field(ge=0, description="samples (uids) in the soft-label file")
    max_samples: int | None = Field(default=None, description="only the first N rows of the data file were taught")


class TaskRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task_type: str
    labels: list[str] | None = None
    n_class: int
    max_seq_len: int
    teachers: list[int] = Field(description="indices into the manifest's teachers")
    splits: dict[str, SplitRecord]


class TeacherRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run: str
    checkpoint: str
    step: int
    seed: int | None = None
    encoder: str = ""
    tasks: list[str]


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["mtdnn-kd-soft-labels"] = FORMAT
    version: Literal[1] = 1
    temperature: float = Field(gt=0)
    tokenizer: str = Field(description="fingerprint of the teachers' tokenizer (mtdnn_kd.fingerprint.tokenizer_identity)")
    teachers: list[TeacherRecord]
    tasks: dict[str, TaskRecord]
    versions: dict[str, str] = Field(default_factory=dict)


def task_problems(record: TaskRecord, task: TaskDef, where: str) -> list[str]:
    """Differences between the task the soft labels were made for and the run's definition."""
    problems = []
    if record.task_type != task.task_type:
        problems.append(f"{where}: task '{task.name}' is {task.task_type} in this run but {record.task_type} in the soft labels")
    if record.labels != task.labels or record.n_class != task.n_class:
        problems.append(f"{where}: task '{task.name}' has labels {task.labels} ({task.n_class} outputs) in this run but "
                        f"{record.labels} ({record.n_class}) in the soft labels; teach again with teachers trained on "
                        f"this label set")
    return problems


class SoftLabels:
    """A soft-label directory: its manifest, and each task's entries by uid (read on demand)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.manifest = read_manifest(self.directory)
        self._entries: dict[tuple[str, str], dict[str, dict]] = {}

    @property
    def temperature(self) -> float:
        return self.manifest.temperature

    def entries(self, task: str, split: str = "train") -> dict[str, dict]:
        """uid -> target (NumPy arrays) of one task's split."""
        key = (task, split)
        if key not in self._entries:
            record = self.manifest.tasks[task]
            if split not in record.splits:
                raise SoftLabelError(f"{self.directory / MANIFEST}: task '{task}' has no '{split}' soft labels "
                                     f"(has {', '.join(record.splits) or 'none'})")
            path = self.directory / record.splits[split].file
            self._entries[key] = read_entries(path, kind_for(record.task_type))
        return self._entries[key]


def read_manifest(directory: Path) -> Manifest:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise SoftLabelError(f"{directory}: no {MANIFEST} (not a soft-label directory, or `mtdnn kd teach` did not finish)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SoftLabelError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()], str(path)) from None


def read_entries(path: Path, kind) -> dict[str, dict]:
    if not path.is_file():
        raise SoftLabelError(f"{path}: no such file (named in {MANIFEST})")
    entries: dict[str, dict] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SoftLabelError(f"{where}: not valid JSON ({exc.msg})") from None
            if not isinstance(entry, dict) or "uid" not in entry:
                raise SoftLabelError(f"{where}: expected an object with 'uid' and 'soft'")
            uid = str(entry["uid"])
            if uid in entries:
                raise SoftLabelError(f"{where}: uid {uid} appears twice")
            entries[uid] = kind.read_entry(entry, where)
    return entries


def write_entries(path: Path, lines: list[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))


def write_manifest(directory: Path, manifest: Manifest) -> None:
    atomic_write_json(Path(directory) / MANIFEST, manifest.model_dump())
