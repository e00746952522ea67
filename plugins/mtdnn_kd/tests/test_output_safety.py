"""``kd teach --out``, ``kd recipe --out`` and ``kd train --output-dir`` never write into a teacher
run, the data or the soft labels they read, nor into a training run: refused before any model is
loaded, naming the option and both paths, with every input byte-identical."""
from pathlib import Path

import pytest

from mtdnn_core.testing import cli_refuses as refused, snapshot_files as files_of


@pytest.fixture
def world(tmp_path) -> dict[str, Path]:
    """A teacher run's bookkeeping files, a data directory and soft labels (nothing is loaded)."""
    teacher = tmp_path / "teacher"
    (teacher / "checkpoint-0000003").mkdir(parents=True)
    (teacher / "latest.json").write_text('{"checkpoint": "checkpoint-0000003"}\n')
    (teacher / "log.jsonl").write_text('{"step": 3}\n')
    (teacher / "metrics.json").write_text("[]\n")
    data = tmp_path / "data"
    data.mkdir()
    (data / "rte_train.tsv").write_text("1\tentailment\ta\tb\n")
    soft = tmp_path / "soft"
    soft.mkdir()
    (soft / "manifest.json").write_text("{}\n")
    return {"teacher": teacher, "data": data, "soft": soft}


def teach(world, out, *extra):
    return ["kd", "teach", "--teacher", world["teacher"], "--tasks", "rte", "--data-dir", world["data"], "--out", out, *extra]


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_teach_into_the_teachers_run(world, overwrite):
    teacher = world["teacher"]
    before = files_of(teacher.parent)
    refused(teach(world, teacher, *overwrite), f"--out {teacher} is the same path as the input --teacher {teacher}")
    refused(teach(world, teacher / "soft", *overwrite), f"--out {teacher / 'soft'} lies inside the input --teacher {teacher}")
    refused(["kd", "teach", "--teacher", f"rte={teacher}:best", "--tasks", "rte", "--data-dir", world["data"],
             "--out", teacher.parent, *overwrite], f"--out {teacher.parent} contains the input --teacher {teacher}")
    assert files_of(teacher.parent) == before


def test_teach_into_the_data_or_another_run(world, tmp_path):
    other = tmp_path / "other-run"
    other.mkdir()
    (other / "log.jsonl").write_text('{"step": 1}\n')
    before = files_of(tmp_path)
    refused(teach(world, world["data"]), f"--out {world['data']} is the same path as the input --data-dir {world['data']}")
    refused(teach(world, other, "--overwrite"), f"--out {other}: holds another run's files (log.jsonl)")
    assert files_of(tmp_path) == before


def test_recipe_out_that_is_the_data(world):
    before = files_of(world["data"])
    refused(["kd", "recipe", "--tasks", "rte", "--data-dir", world["data"], "--out", world["data"]],
            f"--out {world['data']} is the same path as the input --data-dir {world['data']}")
    assert files_of(world["data"]) == before


def test_student_output_dir_that_is_the_soft_labels(world):
    before = files_of(world["soft"])
    refused(["kd", "train", "--soft-labels", world["soft"], "--data-dir", world["data"], "--tasks", "rte", "--plugin", "glue",
             "--output-dir", world["soft"], "--overwrite"],
            f"--output-dir {world['soft']} is the same path as the input --soft-labels {world['soft']}")
    assert files_of(world["soft"]) == before
