"""Readers for the domain-adaptation data sets in their distributed formats.

* SNLI 1.0: ``snli_1.0_{train,dev,test}.jsonl`` (fields ``gold_label``, ``sentence1``,
  ``sentence2``, ``pairID``) or the ``.txt`` version (tab-separated, header row). Pairs whose
  ``gold_label`` is ``-`` (no annotator consensus) are left out, as is standard, and counted.
* SciTail 1.1: ``tsv_format/scitail_1.0_{train,dev,test}.tsv`` (premise, hypothesis, label;
  no header).
"""
from __future__ import annotations

import json
from pathlib import Path

from mtdnn_core.api import DataError, atomic_write_json, atomic_write_text, read_tsv_rows

SPLITS = ("train", "dev", "test")


def _clean(text: str) -> str:
    return " ".join(str(text).replace("\t", " ").split())


def _first(candidates: list[Path]) -> Path | None:
    return next((c for c in candidates if c.is_file()), None)


def read_snli(path: Path) -> tuple[list[tuple[str, str, str, str]], int]:
    """Rows ``(uid, label, premise, hypothesis)`` and the number of no-consensus pairs skipped."""
    rows, skipped = [], 0
    if path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    label, a, b = record["gold_label"], record["sentence1"], record["sentence2"]
                except (json.JSONDecodeError, KeyError) as exc:
                    raise DataError(f"{path}:{number}: not an SNLI record ({exc})") from None
                if label == "-":
                    skipped += 1
                    continue
                rows.append((str(record.get("pairID", number)), label, _clean(a), _clean(b)))
    else:
        lines = list(read_tsv_rows(path))
        if not lines:
            raise DataError(f"{path}: empty file")
        header = lines[0][1]
        try:
            li, ai, bi = header.index("gold_label"), header.index("sentence1"), header.index("sentence2")
        except ValueError:
            raise DataError(f"{path}:1: expected columns gold_label, sentence1, sentence2 in the header") from None
        pi = header.index("pairID") if "pairID" in header else None
        for number, row in lines[1:]:
            if len(row) < len(header):
                raise DataError(f"{path}:{number}: {len(row)} column(s), expected {len(header)}")
            if row[li] == "-":
                skipped += 1
                continue
            rows.append((row[pi] if pi is not None else str(number), row[li], _clean(row[ai]), _clean(row[bi])))
    return rows, skipped


def read_scitail(path: Path) -> list[tuple[str, str, str, str]]:
    rows = []
    for i, (number, row) in enumerate(read_tsv_rows(path)):
        if len(row) != 3:
            raise DataError(f"{path}:{number}: {len(row)} column(s), expected 3 (premise, hypothesis, label)")
        rows.append((str(i), row[2].strip(), _clean(row[0]), _clean(row[1])))
    return rows


def _write(rows, target: Path) -> Path:
    atomic_write_text(target, "".join("\t".join(r) + "\n" for r in rows))
    return target


def locate_snli(definition, data_dir: Path, work_dir: Path) -> dict[str, Path]:
    from mtdnn_core.api import canonical_files

    found = canonical_files(definition, data_dir)
    if found:
        return found
    out, report = {}, {}
    for split in SPLITS:
        source = _first([base / f"snli_1.0_{split}.{ext}" for base in (data_dir, data_dir / "snli_1.0", data_dir / "SNLI")
                         for ext in ("jsonl", "txt")])
        if source is None:
            continue
        rows, skipped = read_snli(source)
        out[split] = _write(rows, Path(work_dir) / "snli" / f"snli_{split}.tsv")
        report[split] = {"source": str(source), "rows": len(rows), "skipped_no_consensus": skipped}
    if report:
        atomic_write_json(Path(work_dir) / "snli" / "conversion.json", report)
    return out


def locate_scitail(definition, data_dir: Path, work_dir: Path) -> dict[str, Path]:
    from mtdnn_core.api import canonical_files

    found = canonical_files(definition, data_dir)
    if found:
        return found
    out = {}
    for split in SPLITS:
        source = _first([base / "tsv_format" / f"scitail_1.0_{split}.tsv"
                         for base in (data_dir, data_dir / "SciTailV1.1", data_dir / "SciTailV1", data_dir / "scitail")]
                        + [data_dir / f"scitail_1.0_{split}.tsv"])
        if source is not None:
            out[split] = _write(read_scitail(source), Path(work_dir) / "scitail" / f"scitail_{split}.tsv")
    return out


def qnli_to_ranking(path: Path, target: Path, min_candidates: int = 2) -> dict[str, int]:
    """Group canonical QNLI rows by question: a question with ``min_candidates`` or more candidate
    sentences, exactly one of them ``entailment``, becomes one ranking sample (the paper's
    setting). Returns counts of what was built and what could not be (written to
    ``target``.report.json)."""
    groups: dict[str, list[tuple[str, str, str]]] = {}
    order = []
    for number, row in read_tsv_rows(path):
        if len(row) != 4:
            raise DataError(f"{path}:{number}: {len(row)} column(s), expected canonical QNLI rows (uid, label, question, sentence)")
        uid, label, question, sentence = row
        if question not in groups:
            groups[question] = []
            order.append(question)
        groups[question].append((uid, label, sentence))
    lines, counts = [], {"questions": len(groups), "samples": 0, "too_few_candidates": 0, "not_one_positive": 0}
    for question in order:
        members = groups[question]
        positives = [i for i, (_, label, _) in enumerate(members) if label == "entailment"]
        if len(members) < min_candidates:
            counts["too_few_candidates"] += 1
            continue
        if len(positives) != 1:
            counts["not_one_positive"] += 1
            continue
        ids = ",".join(uid for uid, _, _ in members)
        lines.append("\t".join([f"q{len(lines)}", ids, str(positives[0]), _clean(question), *(_clean(s) for _, _, s in members)]))
        counts["samples"] += 1
    atomic_write_text(target, "\n".join(lines) + "\n")
    atomic_write_json(Path(f"{target}.report.json"), counts)
    return counts


def locate_qnli_ranking(definition, data_dir: Path, work_dir: Path) -> dict[str, Path]:
    """QNLI as ranking: convert the GLUE QNLI files, then group them by question."""
    from mtdnn_glue.convert import locate
    from mtdnn_glue.definitions import task_defs

    out = {}
    for split, path in locate("qnli")(task_defs()["qnli"], data_dir, work_dir).items():
        target = Path(work_dir) / "qnnli" / f"qnnli_{split}.tsv"
        if split != "test":  # test rows carry no labels to rank by
            qnli_to_ranking(path, target)
            out[split] = target
    return out
