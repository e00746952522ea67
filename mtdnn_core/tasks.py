"""A task as plugins register it: its definition and where its data comes from."""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mtdnn_core.config import TaskDef

# (definition, data_dir, work_dir) -> {split name: canonical file}. The definition is the run's
# (after --task-def files and task_overrides), so a locator needs no table of its own tasks.
# A locator of two parameters (data_dir, work_dir), the earlier form, is still called so.
Locator = Callable[[TaskDef, Path, Path], dict[str, Path]]


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
    """A :class:`TaskDef` plus an optional ``locate`` that finds (or converts) its files; it
    receives the run's definition (see :data:`Locator`), so it needs no table of its tasks.

    Without ``locate`` the task reads canonical files named as in :func:`canonical_files`.
    """

    definition: TaskDef
    locate: Locator | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    def find_data(self, data_dir: Path, work_dir: Path) -> dict[str, Path]:
        if self.locate is not None:
            if _takes_definition(self.locate):
                return self.locate(self.definition, Path(data_dir), Path(work_dir))
            return self.locate(Path(data_dir), Path(work_dir))
        return canonical_files(self.definition, Path(data_dir))


def _takes_definition(locate: Callable) -> bool:
    """Whether a locator takes the task definition first (three parameters)."""
    try:
        parameters = inspect.signature(locate).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 3 or any(p.kind == p.VAR_POSITIONAL for p in parameters)
