"""Averaging teacher outputs into soft targets, against hand computations."""
import math

import numpy as np
import pytest
import torch

from mtdnn_kd.kinds import kind_for


def softmax(values):
    exps = [math.exp(v) for v in values]
    return [e / sum(exps) for e in exps]


def collect(kind, rows, outputs, temperature):
    collector = kind.collector(temperature)
    collector.add(rows, torch.tensor(outputs))
    return collector.targets


def test_class_probabilities_at_a_temperature_are_averaged():
    kind = kind_for("classification")
    rows = [{"uid": "a"}]
    first = collect(kind, rows, [[2.0, 0.0]], temperature=2.0)["a"]
    second = collect(kind, rows, [[0.0, 1.0]], temperature=2.0)["a"]
    # softmax([2, 0] / 2) = [e/(e+1), 1/(e+1)];  softmax([0, 1] / 2) = [1/(1+e^.5), e^.5/(1+e^.5)]
    e, r = math.e, math.exp(0.5)
    expected = [(e / (e + 1) + 1 / (1 + r)) / 2, (1 / (e + 1) + r / (1 + r)) / 2]
    averaged = kind.average([first, second])
    assert averaged["soft"] == pytest.approx(expected, abs=1e-6)
    assert averaged["logits"] == pytest.approx([1.0, 0.5])  # mean raw logits, temperature-free
    assert kind.predictions([averaged]) == [0]


def test_ranking_probabilities_cover_real_candidates_only():
    kind = kind_for("ranking")
    rows = [{"uid": "q1", "input_ids": [[1, 2], [1, 3]]}, {"uid": "q2", "input_ids": [[1], [2], [3]]}]
    ninf = float("-inf")
    targets = collect(kind, rows, [[1.0, 2.0, ninf], [0.0, 0.0, math.log(2.0)]], temperature=1.0)
    assert targets["q1"]["soft"] == pytest.approx(softmax([1.0, 2.0]), abs=1e-6)
    assert len(targets["q1"]["logits"]) == 2
    assert targets["q2"]["soft"] == pytest.approx([0.25, 0.25, 0.5], abs=1e-6)


def test_regression_targets_are_the_teachers_mean():
    kind = kind_for("regression")
    rows = [{"uid": "s"}]
    values = [collect(kind, rows, [v], 1.0)["s"] for v in (2.0, 3.0, 4.5)]
    assert kind.average(values)["soft"] == pytest.approx((2.0 + 3.0 + 4.5) / 3)
    assert kind.discrete is False


def test_per_word_distributions_come_from_the_most_central_window_and_are_averaged():
    kind = kind_for("sequence_labeling")
    # one sentence of 6 words in two windows: words 0-4 (offset 0) and words 2-5 (offset 2)
    first = {"uid": "s1", "word_ids": [-1, 0, 1, 1, 2, 3, 4, -1], "word_offset": 0, "n_words": 6}
    second = {"uid": "s1", "word_ids": [-1, 0, 1, 2, 3, -1, -1, -1], "word_offset": 2, "n_words": 6}
    logits = torch.zeros(2, 8, 3)
    for pos in range(8):  # distinct logits per (window, position): [pos, 0, -pos] and [0, pos, 0]
        logits[0, pos] = torch.tensor([pos, 0.0, -pos])
        logits[1, pos] = torch.tensor([0.0, pos, 0.0])
    collector = kind.collector(1.0)
    collector.add([first, second], logits)
    soft = collector.targets["s1"]["soft"]
    assert soft.shape == (6, 3)
    # word 0: only window 1, position 1;  word 1: first sub-token at position 2 (not 3)
    assert soft[0] == pytest.approx(softmax([1, 0, -1]), abs=1e-6)
    assert soft[1] == pytest.approx(softmax([2, 0, -2]), abs=1e-6)
    # word 2: window 1 local 2 of span 4 (centrality 2) beats window 2 local 0 (centrality 0)
    assert soft[2] == pytest.approx(softmax([4, 0, -4]), abs=1e-6)
    # word 3: centrality 1 in both; the first window seen keeps it
    assert soft[3] == pytest.approx(softmax([5, 0, -5]), abs=1e-6)
    # word 4: window 1 local 4 (centrality 0) loses to window 2 local 2 of span 3 (centrality 1)
    assert soft[4] == pytest.approx(softmax([0, 3, 0]), abs=1e-6)
    # word 5: only window 2, local 3 at position 4
    assert soft[5] == pytest.approx(softmax([0, 4, 0]), abs=1e-6)

    other = {"soft": np.full((6, 3), 1 / 3), "logits": np.zeros((6, 3))}
    averaged = kind.average([collector.targets["s1"], other])
    assert averaged["soft"][5] == pytest.approx([(a + 1 / 3) / 2 for a in softmax([0, 4, 0])], abs=1e-6)
    assert kind.predictions([averaged]) == [0, 0, 0, 0, 1, 1]


def test_word_without_subtoken_gets_a_uniform_target():
    kind = kind_for("sequence_labeling")
    row = {"uid": "s", "word_ids": [-1, 0, 2, -1], "word_offset": 0, "n_words": 3}  # word 1 vanished
    collector = kind.collector(1.0)
    collector.add([row], torch.zeros(1, 4, 2))
    assert collector.targets["s"]["soft"][1] == pytest.approx([0.5, 0.5])
