"""``hnn evaluate --output-dir`` never replaces a training run's files nor writes over its data;
an earlier evaluation is replaced only with --overwrite. Refusals name the option and both paths
and come before any model is loaded."""
from pathlib import Path


from mtdnn_core.testing import cli_refuses as refused, snapshot_files as files_of


def evaluate(data: Path, out: Path, *extra) -> list:
    return ["hnn", "evaluate", "--encoder", "tiny-random-bert", "--data-dir", data, "--tasks", "wsc273",
            "--output-dir", out, *extra]


def training_run(root: Path) -> Path:
    run = root / "run"
    (run / "checkpoint-0000004").mkdir(parents=True)
    (run / "metrics.json").write_text('[{"step": 4, "metrics": {"rte_dev": {"accuracy": 61.0}}}]\n')
    (run / "log.jsonl").write_text('{"step": 4, "loss": 0.5}\n')
    (run / "latest.json").write_text('{"checkpoint": "checkpoint-0000004"}\n')
    return run


def test_output_dir_that_is_a_training_run_is_refused_even_with_overwrite(tmp_path):
    run = training_run(tmp_path)
    (tmp_path / "data").mkdir()
    before = files_of(run)
    for extra in ([], ["--overwrite"]):
        refused(evaluate(tmp_path / "data", run, *extra), f"--output-dir {run}: holds another run's files (log.jsonl, latest.json, checkpoint-*)")
    assert files_of(run) == before


def test_output_dir_in_the_data(tmp_path):
    data = tmp_path / "hnn"
    (data / "WSC273").mkdir(parents=True)
    (data / "WSC273" / "WSCollection.xml").write_text("<collection/>\n")
    before = files_of(data)
    refused(evaluate(data, data), f"--output-dir {data} is the same path as the input --data-dir {data}")
    refused(evaluate(data, data / "WSC273" / "eval"), f"lies inside the input --data-dir {data}")
    assert files_of(data) == before


def test_an_earlier_evaluation_is_replaced_only_with_overwrite(tmp_path):
    out = tmp_path / "hnn-eval"
    out.mkdir()
    (tmp_path / "data").mkdir()
    (out / "metrics.json").write_text('{"wsc273_test": {"hybrid_accuracy": 55.0}}\n')
    before = files_of(out)
    refused(evaluate(tmp_path / "data", out), f"--output-dir {out}: already holds this command's output (metrics.json)", "--overwrite")
    assert files_of(out) == before
