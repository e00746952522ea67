"""GLUE commands never write where they read: ``convert``'s OUT_DIR, ``recipe``/``adapt`` --out,
``download --target`` and ``submit --out`` that are, contain or lie inside an input, or hold a
training run, are refused, naming the option and both paths, inputs byte-identical."""
from pathlib import Path

import pytest

from mtdnn_core.testing import cli_refuses as refused, snapshot_files as files_of


@pytest.fixture
def glue_dir(tmp_path) -> Path:
    folder = tmp_path / "glue_data"
    (folder / "RTE").mkdir(parents=True)
    (folder / "RTE" / "train.tsv").write_text("index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n")
    return folder


def test_convert_into_or_around_the_glue_directory(glue_dir):
    before = files_of(glue_dir.parent)
    refused(["glue", "convert", glue_dir, glue_dir], f"OUT_DIR {glue_dir} is the same path as the input GLUE_DIR {glue_dir}")
    refused(["glue", "convert", glue_dir, glue_dir / "canonical"], f"OUT_DIR {glue_dir / 'canonical'} lies inside the input GLUE_DIR")
    refused(["glue", "convert", glue_dir, glue_dir.parent], f"OUT_DIR {glue_dir.parent} contains the input GLUE_DIR {glue_dir}")
    assert files_of(glue_dir.parent) == before


def test_recipe_and_adapt_out_that_is_the_data(glue_dir):
    before = files_of(glue_dir)
    refused(["glue", "recipe", "--tasks", "rte", "--data-dir", glue_dir, "--out", glue_dir],
            f"--out {glue_dir} is the same path as the input --data-dir {glue_dir}")
    refused(["glue", "adapt", "--task", "rte", "--data-dir", glue_dir, "--out", glue_dir / "adapt"],
            f"--out {glue_dir / 'adapt'} lies inside the input --data-dir {glue_dir}")
    assert files_of(glue_dir) == before


def test_download_and_sample_into_a_training_run(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoint-0000001").mkdir(parents=True)
    (run / "log.jsonl").write_text('{"step": 1}\n')
    before = files_of(run)
    refused(["glue", "download", "--tasks", "rte", "--target", run], f"--target {run}: holds another run's files (log.jsonl, checkpoint-*)")
    refused(["glue", "sample", run], f"OUT_DIR {run}: holds another run's files")
    assert files_of(run) == before


def test_submit_over_its_run(tmp_path):
    run = tmp_path / "run"
    (run / "scores").mkdir(parents=True)
    (run / "scores" / "rte_test.epoch0.json").write_text('{"uids": [], "predictions": []}\n')
    before = files_of(run)
    refused(["glue", "submit", run, "--out", run], f"--out {run} is the same path as the input RUNS {run}")
    refused(["glue", "submit", run, "--out", tmp_path / "sub", "--zip", run / "scores" / "rte_test.epoch0.json"],
            f"--zip {run / 'scores' / 'rte_test.epoch0.json'} is a file of the input RUNS {run}")
    assert files_of(run) == before
