"""Convert a GLUE directory (as the standard download script lays it out) to canonical files.

Handles the distribution's quirks: UTF-8 BOM (MRPC), header-less CoLA train/dev, stray double
quotes (rows are read with quoting off), test sets without labels (written with an empty label).
Columns are found by header name, so a reordered file still converts correctly.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from mtdnn_core.api import DataError, atomic_write_text, file_sha256, read_tsv_rows


@dataclass(frozen=True)
class Source:
    folder: str
    files: dict[str, str]  # split -> file name
    uid: str | int | None  # header name, column index (header-less), or None (row number)
    label: str | int | None
    text_a: str | int
    text_b: str | int | None = None
    headerless: tuple[str, ...] = ()  # splits whose file has no header row
    per_split: dict[str, dict] = field(default_factory=dict)  # column changes for one split


GLUE = {
    "cola": Source("CoLA", {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
                   uid=None, label=1, text_a=3, headerless=("train", "dev"),
                   per_split={"test": {"uid": "index", "label": None, "text_a": "sentence"}}),
    "sst": Source("SST-2", {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
                  uid="index", label="label", text_a="sentence"),
    "mrpc": Source("MRPC", {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
                   uid="index", label="Quality", text_a="#1 String", text_b="#2 String"),
    "stsb": Source("STS-B", {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
                   uid="index", label="score", text_a="sentence1", text_b="sentence2"),
    "qqp": Source("QQP", {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
                  uid="id", label="is_duplicate", text_a="question1", text_b="question2"),
    "mnli": Source("MNLI", {"train": "train.tsv", "matched_dev": "dev_matched.tsv", "mismatched_dev": "dev_mismatched.tsv",
                            "matched_test": "test_matched.tsv", "mismatched_test": "test_mismatched.tsv",
                            "ax": "../diagnostic/diagnostic.tsv"},
                   uid="index", label="gold_label", text_a="sentence1", text_b="sentence2",
                   per_split={"ax": {"label": None}}),
    "qnli": Source("QNLI", {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
                   uid="index", label="label", text_a="question", text_b="sentence"),
    "rte": Source("RTE", {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
                  uid="index", label="label", text_a="sentence1", text_b="sentence2"),
    "wnli": Source("WNLI", {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
                   uid="index", label="label", text_a="sentence1", text_b="sentence2"),
}


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def _column(header: list[str] | None, key: str | int | None, path: Path, optional: bool = False) -> int | None:
    if key is None or isinstance(key, int):
        return key
    if header is None or key not in header:
        if optional:
            return None
        raise DataError(f"{path}:1: no column '{key}' in the header ({', '.join(header or [])})")
    return header.index(key)


def convert_file(task: str, split: str, path: Path, target: Path) -> int:
    """Convert one GLUE file to ``uid<TAB>label<TAB>premise[<TAB>hypothesis]``; return the row count."""
    source = GLUE[task]
    source = replace(source, **source.per_split.get(split, {}))
    rows = list(read_tsv_rows(path))
    if not rows:
        raise DataError(f"{path}: empty file")
    header = None
    if split not in source.headerless:
        header = [h.strip() for h in rows[0][1]]
        rows = rows[1:]
    uid_col = _column(header, source.uid, path, optional=True)  # SST-2 train/dev have none
    label_col = _column(header, source.label, path, optional=True)  # test files have none
    a_col = _column(header, source.text_a, path)
    b_col = _column(header, source.text_b, path) if source.text_b is not None else None
    needed = max(c for c in (uid_col, label_col, a_col, b_col) if c is not None) + 1
    lines = []
    for i, (number, row) in enumerate(rows):
        if len(row) < needed:
            raise DataError(f"{path}:{number}: {len(row)} column(s), expected at least {needed}")
        uid = row[uid_col].strip() if uid_col is not None else str(i)
        label = row[label_col].strip() if label_col is not None else ""
        fields = [uid, label, _clean(row[a_col])]
        if b_col is not None:
            fields.append(_clean(row[b_col]))
        lines.append("\t".join(fields))
    atomic_write_text(target, "\n".join(lines) + "\n")
    return len(lines)


CONVERTER_VERSION = 1


def _source_record(source: Path) -> dict:
    return {"source": str(Path(source).resolve()), "sha256": file_sha256(source), "converter": CONVERTER_VERSION}


def is_current(target: Path, source: Path) -> bool:
    """A converted file is reused only when it was made from this very source: same path and
    same content (never by modification times, which another --data-dir can easily beat)."""
    record = target.with_name(target.name + ".source.json")
    if not (target.is_file() and record.is_file()):
        return False
    try:
        return json.loads(record.read_text(encoding="utf-8")) == _source_record(source)
    except ValueError:
        return False


def record_source(target: Path, source: Path) -> None:
    atomic_write_text(target.with_name(target.name + ".source.json"), json.dumps(_source_record(source)) + "\n")


def convert_task(task: str, glue_dir: Path, out_dir: Path) -> dict[str, Path]:
    """Convert every split of ``task`` found under ``glue_dir``; return ``{split: canonical file}``."""
    source = GLUE[task]
    folder = Path(glue_dir) / source.folder
    found = {}
    for split, name in source.files.items():
        path = (folder / name).resolve() if "/" in name else folder / name
        if not path.is_file():
            continue
        target = Path(out_dir) / f"{task}_{split}.tsv"
        if not is_current(target, path):
            convert_file(task, split, path, target)
            record_source(target, path)
        found[split] = target
    return found


def locate(task: str):
    """A task locator: canonical files if ``data_dir`` has them, else a converted GLUE folder."""

    def find(definition, data_dir: Path, work_dir: Path) -> dict[str, Path]:
        from mtdnn_core.api import canonical_files

        canonical = canonical_files(definition, data_dir)
        for path in canonical.values():
            _refuse_raw(path)
        if canonical:
            return canonical
        if (Path(data_dir) / GLUE[task].folder).is_dir():
            return convert_task(task, data_dir, Path(work_dir) / "glue")
        return {}

    return find


#: column names of the first row of GLUE's distributed files (canonical files have no header)
GLUE_HEADER = {"index", "label", "sentence", "sentence1", "sentence2", "question", "quality", "#1 string", "#2 string",
               "gold_label", "id", "qid1", "qid2", "question1", "question2", "is_duplicate", "acceptability"}


def _refuse_raw(path: Path) -> None:
    """A file named as a canonical one that is GLUE's file as distributed (it has a header row)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = handle.readline().rstrip("\r\n").split("\t")
    if sum(cell.strip().lower() in GLUE_HEADER for cell in first) >= 2:
        raise DataError(f"{path}:1: the first row is a header ({' | '.join(first[:4])}): this is GLUE's file as "
                        f"distributed, not a canonical one; convert the GLUE directory with `mtdnn glue convert "
                        f"GLUE_DIR OUT_DIR`, or give --data-dir the GLUE directory itself (RTE/, MNLI/, ...)")
