"""The SQuAD tasks and where their files are.

``squad`` is SQuAD 1.1 (task type ``span``), ``squadv2`` SQuAD 2.0 (``span_v2``); ``squad-v2``
is the same task under the original toolkit's name, so its task-definition file finds its data
too. Task names cannot contain ``_`` (dataset names map to tasks by the prefix before it).

In a data directory, each split is found as (first match wins):

1. ``{task}_{split}.json`` (``squadv2_train.json``, ``squad_dev.json``, ...);
2. the official name, ``{split}-v1.1.json`` / ``{split}-v2.0.json``;
3. the one file matching ``{split}*-v1.1*.json`` / ``{split}*-v2.0*.json`` (e.g.
   ``dev-v2.0-first5.json``); several matches are an error.
"""
from __future__ import annotations

from pathlib import Path

from mtdnn_core.api import DataError, Task, TaskDef

SPLITS = ("train", "dev", "test")
MAX_SEQ_LEN = 384


def locate(task: str, version: str):
    """A locator for ``task``'s SQuAD ``version`` ("1.1" or "2.0") files."""

    def find(data_dir: Path, work_dir: Path) -> dict[str, Path]:
        data_dir = Path(data_dir)
        found = {}
        for split in SPLITS:
            named = [data_dir / f"{task}_{split}.json", data_dir / f"{split}-v{version}.json"]
            path = next((p for p in named if p.is_file()), None)
            if path is None:
                matches = sorted(data_dir.glob(f"{split}*-v{version}*.json"))
                if len(matches) > 1:
                    raise DataError(f"task '{task}': several {split} files in {data_dir} "
                                    f"({', '.join(m.name for m in matches)}); rename one to {task}_{split}.json")
                path = matches[0] if matches else None
            if path is not None:
                found[split] = path
        if not found:
            raise DataError(f"task '{task}': no SQuAD {version} file in {data_dir} (looked for {task}_train.json, "
                            f"train-v{version}.json, dev-v{version}.json, or train*-v{version}*.json ...; "
                            f"`mtdnn squad download` fetches the official files)")
        return found

    return find


def definitions() -> dict[str, TaskDef]:
    common = {"data_format": "squad_json", "max_seq_len": MAX_SEQ_LEN, "split_names": list(SPLITS)}
    return {
        "squad": TaskDef(name="squad", task_type="span", description="SQuAD 1.1 extractive question answering", **common),
        "squadv2": TaskDef(name="squadv2", task_type="span_v2",
                           description="SQuAD 2.0 extractive question answering, with unanswerable questions", **common),
        "squad-v2": TaskDef(name="squad-v2", task_type="span_v2",
                            description="squadv2 under the original toolkit's name", **common),
    }


VERSIONS = {"squad": "1.1", "squadv2": "2.0", "squad-v2": "2.0"}


def tasks() -> list[Task]:
    return [Task(d, locate=locate(name, VERSIONS[name])) for name, d in definitions().items()]
