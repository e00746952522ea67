"""Regularizers that compare two outputs (SMART, PDR, Bregman) on span tasks: the start and end
distributions over each window's real tokens, by hand and in a run."""
import json
import math

import pytest
import torch
from click.testing import CliRunner

from mtdnn_core.api import SymmetricKL, cli as main
from mtdnn_squad.task_types import Span, SpanV2

TINY = ["--encoder", "tiny-random-bert", "--epochs", "1", "--batch-size", "8", "--lr", "1e-3", "--no-progress",
        "--num-threads", "1", "--device", "cpu"]


def sym_kl(p, q):
    return sum(a * math.log(a / b) for a, b in zip(p, q)) + sum(b * math.log(b / a) for a, b in zip(p, q))


@pytest.mark.parametrize("task_type", [Span(), SpanV2()])
def test_start_and_end_distributions_over_real_tokens_are_compared(task_type):
    # one window of three tokens, the last one padding (its logits must not count)
    a = torch.tensor([[[math.log(3.0), 0.0], [0.0, 0.0], [9.0, 9.0]]])  # start p [0.75, 0.25], end p [0.5, 0.5]
    b = torch.tensor([[[0.0, 0.0], [0.0, math.log(4.0)], [-9.0, 5.0]]])  # start p [0.5, 0.5], end p [0.2, 0.8]
    batch = {"attention_mask": torch.tensor([[1, 1, 0]])}
    expected = (sym_kl([0.75, 0.25], [0.5, 0.5]) + sym_kl([0.5, 0.5], [0.2, 0.8])) / 2
    assert task_type.compares_outputs
    assert task_type.compare_outputs(a, b, batch, SymmetricKL()).item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("name", ["smart", "bregman"])
def test_a_span_task_trains_with_a_regularizer_that_compares_outputs(tmp_path, squad_dir, name):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, [str(a) for a in [
        "train", "--plugin", "squad", "--plugin", "alum", "--data-dir", squad_dir, "--tasks", "squadv2",
        "--output-dir", out, "--max-train-samples", "16", "--log-every", "1",
        "--set", f"regularizers=[{{name: {name}}}]", *TINY]])
    assert result.exit_code == 0, result.output
    records = [r for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if r["event"] == "train"]
    terms = [r[f"reg_{name}"] for r in records]
    assert terms and all(math.isfinite(t) and t >= 0 for t in terms)
    if name == "smart":  # a perturbation of the embeddings changes the span distributions
        assert max(terms) > 0
