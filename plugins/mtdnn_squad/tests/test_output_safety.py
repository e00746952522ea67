"""``squad evaluate --out-file`` and ``squad threshold --output`` never write over their own
inputs (the same file under any name): refused, naming the option and both paths, inputs
byte-identical."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main
from mtdnn_core.testing import cli_refuses as refused

DATA = {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "John ran home.", "qas": [
    {"id": "q1", "question": "Who ran?", "answers": [{"text": "John", "answer_start": 0}], "is_impossible": False},
    {"id": "q2", "question": "Who flew?", "answers": [], "is_impossible": True}]}]}]}


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    out = {"data": tmp_path / "dev.json", "pred": tmp_path / "pred.json", "odds": tmp_path / "x.null_odds.json",
           "nbest": tmp_path / "x.nbest_predictions.json"}
    out["data"].write_text(json.dumps(DATA))
    out["pred"].write_text(json.dumps({"q1": "John", "q2": ""}))
    out["odds"].write_text(json.dumps({"q1": -2.0, "q2": 3.0}))
    out["nbest"].write_text(json.dumps({"q1": [{"text": "John", "probability": 0.9}], "q2": [{"text": "home", "probability": 0.5}]}))
    return out


def test_evaluate_out_file_that_is_an_input(files, tmp_path):
    before = {p: p.read_bytes() for p in files.values()}
    base = ["squad", "evaluate", files["data"], files["pred"], "--na-prob-file", files["odds"], "--out-file"]
    refused([*base, files["pred"]], f"--out-file {files['pred']} is the same path as the input PREDICTIONS {files['pred']}")
    refused([*base, files["data"]], f"--out-file {files['data']} is the same path as the input DATA {files['data']}")
    alias = tmp_path / "alias.json"
    alias.symlink_to(files["odds"])
    refused([*base, alias], f"--out-file {alias} is the same path as the input --na-prob-file {files['odds']}")
    assert {p: p.read_bytes() for p in files.values()} == before


def test_evaluate_out_file_elsewhere_is_written(files, tmp_path):
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(main, ["squad", "evaluate", str(files["data"]), str(files["pred"]), "--out-file", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["exact"] == 100.0  # both questions right: q1 'John', q2 no answer


def test_threshold_output_that_is_an_input(files):
    before = {p: p.read_bytes() for p in files.values()}
    base = ["squad", "threshold", files["nbest"], files["odds"], "--threshold", "0", "--output"]
    refused([*base, files["nbest"]], f"--output {files['nbest']} is the same path as the input NBEST {files['nbest']}")
    refused([*base, files["odds"]], f"--output {files['odds']} is the same path as the input NULL_ODDS {files['odds']}")
    assert {p: p.read_bytes() for p in files.values()} == before


def test_threshold_default_output_never_replaces_an_existing_file(files):
    default = files["nbest"].with_name("x.predictions-at-0.json")
    default.write_text('{"q1": "mine"}\n')
    refused(["squad", "threshold", files["nbest"], files["odds"], "--threshold", "0"],
            f"--output not given and its default {default} exists", f"pass --output {default} to replace it")
    assert default.read_text() == '{"q1": "mine"}\n'
    result = CliRunner().invoke(main, ["squad", "threshold", str(files["nbest"]), str(files["odds"]), "--threshold", "0",
                                       "--output", str(default)])
    assert result.exit_code == 0, result.output
    assert json.loads(default.read_text()) == {"q1": "John", "q2": ""}  # q2's null odds 3.0 > 0: no answer
