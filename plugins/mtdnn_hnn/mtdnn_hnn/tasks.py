"""HNN's tasks and where their files are in the data as shipped (``DPRD/``, ``PDP/``,
``WNLI/``, ``WSC273/`` under one directory; a task's own subdirectory works as well).

* ``dprd``: Rahman & Ng's definite pronoun resolution set (train 1322, test 564), the training data;
* ``wsc273``: the 273 Winograd schemas (``associative.tsv`` + ``non_associative.tsv``);
* ``wsc285``: all 285 schemas from ``WSCollection.xml``;
* ``pdp60``: the 60 pronoun disambiguation problems;
* ``hnnwnli``: WNLI with pronoun and candidate annotations (train 635, dev 71, test 146),
  predicted as a choice (GLUE's own ``wnli`` task is the GLUE plugin's).
"""
from __future__ import annotations

from pathlib import Path

from mtdnn_core.api import DataError, Task, TaskDef
from mtdnn_hnn.readers import read_schemas

COMMON = {"task_type": "candidate_choice", "data_format": "Winograd", "max_seq_len": 128}

# task -> (subdirectory, {split: file}, description)
LAYOUT = {
    "dprd": ("DPRD", {"train": "train_annotated.tsv", "test": "test_annotated.tsv"},
             "definite pronoun resolution (Rahman and Ng 2012), HNN's training data"),
    "wsc285": ("WSC273", {"test": "WSCollection.xml"}, "the 285 Winograd schemas of WSCollection.xml"),
    "pdp60": ("PDP", {"test": "pdp60.tsv"}, "the 60 pronoun disambiguation problems of 2016"),
    "hnnwnli": ("WNLI", {"train": "train_annotated.tsv", "dev": "dev_annotated.tsv", "test": "test_annotated.tsv"},
                "WNLI as a choice between the sentence's noun phrases"),
}
WSC273_PARTS = ("associative.tsv", "non_associative.tsv")


def _base(data_dir: Path, subdir: str, names) -> Path | None:
    for base in (Path(data_dir) / subdir, Path(data_dir)):
        if any((base / name).is_file() for name in names):
            return base
    return None


def locate_files(subdir: str, files: dict[str, str]):
    def locate(data_dir: Path, work_dir: Path) -> dict[str, Path]:
        base = _base(data_dir, subdir, files.values())
        return {} if base is None else {s: base / n for s, n in files.items() if (base / n).is_file()}

    return locate


def locate_wsc273(data_dir: Path, work_dir: Path) -> dict[str, Path]:
    """WSC273 is ``associative.tsv`` followed by ``non_associative.tsv``: both are read (errors
    name their lines) and joined into one file under ``work_dir``."""
    base = _base(data_dir, "WSC273", WSC273_PARTS)
    if base is None:
        return {}
    missing = [n for n in WSC273_PARTS if not (base / n).is_file()]
    if missing:
        raise DataError(f"{base}: WSC273 needs {' and '.join(WSC273_PARTS)}; {', '.join(missing)} missing")
    lines = []
    for name in WSC273_PARTS:
        read_schemas(base / name)
        body = (base / name).read_text(encoding="utf-8").splitlines()
        lines.extend(body if not lines else body[1:])
    target = Path(work_dir) / "hnn" / "wsc273_test.tsv"
    text = "\n".join(lines) + "\n"
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return {"test": target}


def tasks() -> list[Task]:
    out = []
    for name, (subdir, files, description) in LAYOUT.items():
        definition = TaskDef(name=name, split_names=list(files), description=description, **COMMON)
        out.append(Task(definition, locate=locate_files(subdir, files)))
    out.append(Task(TaskDef(name="wsc273", split_names=["test"], description="the 273 Winograd schemas", **COMMON),
                    locate=locate_wsc273))
    return out
