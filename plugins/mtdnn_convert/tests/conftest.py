"""Shared test data: small canonical slices of the real GLUE and CoNLL-2003 files, and one tiny
multi-task run (tiny random BERT, a few updates) that the export and extraction tests reuse."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtdnn_core.testing import real_data, real_data_dir

SHARED = real_data_dir()
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GLUE_COLUMNS = {  # GLUE file -> (premise, hypothesis, label) columns
    "RTE": (1, 2, 3),
    "STS-B": (7, 8, 9),
    "MRPC": (3, 4, 0),
}


def glue_rows(task: str, split: str, n: int) -> list[tuple[str, str, str]]:
    premise, hypothesis, label = GLUE_COLUMNS[task]
    with open(SHARED / "glue" / task / f"{split}.tsv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1 : n + 1]
    return [(r[premise], r[hypothesis], r[label]) for r in rows]


def write_canonical(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("".join(f"{i}\t{label}\t{a}\t{b}\n" for i, (a, b, label) in enumerate(rows)), encoding="utf-8")
    return path


def conll_slice(path: Path, n: int) -> str:
    return "\n\n".join(path.read_text(encoding="utf-8").split("\n\n")[:n]) + "\n"


@pytest.fixture(scope="session")
def small_data(tmp_path_factory) -> dict[str, Path]:
    real_data("glue"), real_data("conll2003")  # skips the tests that need them when missing
    root = tmp_path_factory.mktemp("data")
    glue, conll = root / "glue", root / "conll"
    glue.mkdir()
    conll.mkdir()
    for name, task in (("rte", "RTE"), ("stsb", "STS-B"), ("mrpc", "MRPC")):
        write_canonical(glue / f"{name}_train.tsv", glue_rows(task, "train", 48))
        write_canonical(glue / f"{name}_dev.tsv", glue_rows(task, "dev", 24))
    (conll / "train.txt").write_text(conll_slice(SHARED / "conll2003" / "train.txt", 64), encoding="utf-8")
    (conll / "valid.txt").write_text(conll_slice(SHARED / "conll2003" / "valid.txt", 24), encoding="utf-8")
    return {"glue": glue, "conll": conll}


@pytest.fixture(scope="session")
def trained_run(small_data, tmp_path_factory) -> Path:
    """rte (pooler head), stsb (regression), mrpc (SAN head) and ner (token head), trained together."""
    from mtdnn_core.api import cli as main

    out = tmp_path_factory.mktemp("run") / "run"
    result = CliRunner().invoke(main, [
        "train", "--plugin", "glue", "--plugin", "ner", "--data-dir", str(small_data["glue"]),
        "--data-dir", f"ner={small_data['conll']}", "--tasks", "rte,stsb,mrpc,ner", "--encoder", "tiny-random-bert",
        "--epochs", "1", "--batch-size", "8", "--max-seq-len", "64", "--lr", "1e-3", "--seed", "3",
        "--output-dir", str(out), "--no-progress", "--set", "task_overrides={rte: {enable_san: false}}",
    ])
    assert result.exit_code == 0, result.output
    return out
