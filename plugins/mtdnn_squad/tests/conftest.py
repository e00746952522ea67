"""Shared fixtures: the real SQuAD 2.0 sample, split by article, and small SQuAD files."""
import json
from pathlib import Path

import pytest

from mtdnn_core.testing import real_data

SAMPLE = ("squad", "dev-v2.0-first5.json")  # in the real data sets (MTDNN_TEST_DATA)


def subset(data: dict, articles: slice, paragraphs: int | None = None, answerable_only: bool = False) -> dict:
    """Some articles of a SQuAD file, each cut to its first ``paragraphs`` paragraphs."""
    out = {"version": data["version"], "data": []}
    for article in data["data"][articles]:
        kept = []
        for paragraph in article["paragraphs"][:paragraphs]:
            qas = [q for q in paragraph["qas"] if q["answers"] or not answerable_only]
            kept.append({"context": paragraph["context"], "qas": qas})
        out["data"].append({"title": article["title"], "paragraphs": kept})
    return out


def squad_file(path: Path, context: str, questions: list[dict], version: str = "v2.0") -> Path:
    """A one-paragraph SQuAD file; each question dict has id, question and answers/is_impossible."""
    path.write_text(json.dumps({"version": version, "data": [{"title": "T", "paragraphs": [
        {"context": context, "qas": questions}]}]}), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return real_data(*SAMPLE)


@pytest.fixture
def write_squad():
    return squad_file


@pytest.fixture(scope="session")
def sample(sample_path) -> dict:
    return json.loads(sample_path.read_text(encoding="utf-8"))


@pytest.fixture
def squad_dir(tmp_path, sample):
    """Official file names: train = 3 paragraphs of each of the first 4 articles, dev = 2
    paragraphs of the 5th (real questions, both answerable and not)."""
    folder = tmp_path / "squad"
    folder.mkdir()
    (folder / "train-v2.0.json").write_text(json.dumps(subset(sample, slice(0, 4), 3)), encoding="utf-8")
    (folder / "dev-v2.0.json").write_text(json.dumps(subset(sample, slice(4, 5), 2)), encoding="utf-8")
    return folder
