"""A task as plugins register it: its definition and where its data comes from."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mtdnn_core.config import TaskDef

# (data_dir, work_dir) -> {split name: canonical file}
Locator = Callable[[Path, Path], dict[str, Path]]


def canonical_files(task: TaskDef, data_dir: Path) -> dict[str, Path]:
    """The original toolkit's layout: ``{data_dir}/{task}_{split}.tsv`` for each split present."""
    found = {}
    for split in task.split_names:
        path = Path(data_dir) / f"{task.name}_{split}.tsv"
        if path.is_file():
            found[split] = path
    return found


@dataclass(frozen=True)
class Task:
    """A :class:`TaskDef` plus an optional ``locate`` that finds (or converts) its files.

    Without ``locate`` the task reads canonical files named as in :func:`canonical_files`.
    """

    definition: TaskDef
    locate: Locator | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    def find_data(self, data_dir: Path, work_dir: Path) -> dict[str, Path]:
        if self.locate is not None:
            return self.locate(Path(data_dir), Path(work_dir))
        return canonical_files(self.definition, Path(data_dir))
