"""``mtdnn extract``: pooled hidden states of single texts and pairs equal a plain ``AutoModel``
forward of each line alone; bad input is refused with its line number."""
import json
import re

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from mtdnn_core.api import cli as main

LINES = ["The cat sat on the mat.", "A man is playing a guitar. ||| Someone plays music.",
         "Short.", "Results of the vote were announced on Tuesday ||| The vote count came out"]


def reference(model, tokenizer, line, layer):
    """The line alone through the model: hidden states [tokens, H] of ``layer``."""
    text, _, pair = (part.strip() for part in line.partition("|||"))
    encoded = tokenizer(text, pair or None, return_tensors="pt")
    with torch.no_grad():
        return model(**encoded, output_hidden_states=True).hidden_states[layer][0]


@pytest.fixture(scope="module")
def tiny():
    from mtdnn_core.api import load_tiny_random_bert

    model, tokenizer = load_tiny_random_bert()
    return model.eval(), tokenizer


def run(*args):
    result = CliRunner().invoke(main, ["extract", "--no-progress", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("pooling", ["first", "mean", "all"])
def test_jsonl_equals_a_plain_forward(tmp_path, tiny, pooling):
    (tmp_path / "in.txt").write_text("\n".join(LINES) + "\n")
    run("--encoder", "tiny-random-bert", "--input", str(tmp_path / "in.txt"), "--output", str(tmp_path / "o.jsonl"),
        "--layers", "-1,-2,0", "--pooling", pooling, "--batch-size", "3")
    records = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [r["line"] for r in records] == [0, 1, 2, 3]
    model, tokenizer = tiny
    for line, record in zip(LINES, records):
        assert [f["layer"] for f in record["features"]] == [-1, -2, 0]
        for feature in record["features"]:
            states = reference(model, tokenizer, line, feature["layer"])
            expected = {"first": states[0], "mean": states.mean(0), "all": states}[pooling]
            assert np.abs(np.array(feature["values"]) - expected.numpy()).max() < 1e-5
        if pooling == "all":
            assert record["tokens"][0] == "[CLS]" and record["tokens"].count("[SEP]") == (2 if "|||" in line else 1)


def test_npy_output_and_checkpoint_encoder(tmp_path, trained_run):
    from mtdnn_core.api import PluginHost, load_for_inference

    (tmp_path / "in.txt").write_text("\n".join(LINES))
    run("--checkpoint", str(trained_run), "--input", str(tmp_path / "in.txt"), "--output", str(tmp_path / "o.npy"),
        "--layers", "-1,1", "--pooling", "mean")
    array = np.load(tmp_path / "o.npy")
    model, tokenizer, _, _ = load_for_inference(trained_run, PluginHost(["glue", "ner"]))
    assert array.shape == (4, 2, model.encoder.config.hidden_size) and array.dtype == np.float32
    for i, line in enumerate(LINES):
        for j, layer in enumerate((-1, 1)):
            expected = reference(model.encoder, tokenizer, line, layer).mean(0).numpy()
            assert np.abs(array[i, j] - expected).max() < 1e-5


@pytest.mark.parametrize("content,output,args,message", [
    ("one\n\nthree\n", "o.jsonl", [], r"in.txt:2: empty line"),
    ("a ||| b ||| c\n", "o.jsonl", [], r"in.txt:1: '\|\|\|' appears 2 times"),
    ("fine\n", "o.jsonl", ["--layers", "-1,9"], r"--layers: \[9\] out of range for an encoder with 2 layers"),
    ("fine\n", "o.npy", ["--pooling", "all"], r"--pooling all gives one vector per token"),
    ("fine\n", "o.csv", [], r"unknown output type '.csv'"),
])
def test_bad_input_is_refused_with_its_line(tmp_path, content, output, args, message):
    (tmp_path / "in.txt").write_text(content)
    result = CliRunner().invoke(main, ["extract", "--encoder", "tiny-random-bert", "--input", str(tmp_path / "in.txt"),
                                       "--output", str(tmp_path / output), "--no-progress", *args])
    assert result.exit_code == 2
    assert re.search(message, result.output), result.output
    assert not (tmp_path / output).exists() and not list(tmp_path.glob(".o.*"))


def test_exactly_one_encoder_source(tmp_path):
    (tmp_path / "in.txt").write_text("x\n")
    result = CliRunner().invoke(main, ["extract", "--input", str(tmp_path / "in.txt"), "--output", str(tmp_path / "o.npy")])
    assert result.exit_code == 2 and "exactly one of --checkpoint RUN and --encoder NAME" in result.output


def test_pooling_skips_padding_on_either_side():
    from mtdnn_convert.extract import pool

    hidden = torch.arange(12.0).view(2, 3, 2)  # row 0 padded on the right, row 1 on the left
    mask = torch.tensor([[1, 1, 0], [0, 1, 1]])
    assert [v.tolist() for v in pool(hidden, mask, "first")] == [[0, 1], [8, 9]]
    assert [v.tolist() for v in pool(hidden, mask, "mean")] == [[1, 2], [9, 10]]
    assert [v.tolist() for v in pool(hidden, mask, "all")] == [[[0, 1], [2, 3]], [[8, 9], [10, 11]]]
