"""n-best and no-answer decoding on hand-made logits; the span loss and head against hand computations."""
import json
import math

import numpy as np
import pytest
import torch

from mtdnn_core.api import TaskDef
from mtdnn_squad.decode import SpanDecoder, best_spans
from mtdnn_squad.head import PADDING_LOGIT, SpanHead
from mtdnn_squad.loss import SpanCrossEntropy
from mtdnn_squad.settings import SpanSettings

CONTEXT = "alpha beta gamma delta"
#               [CLS]  q  [SEP] <- three context tokens ->  [SEP]
WINDOW_0 = {"uid": "q1", "window": 0, "cls_index": 0, "input_ids": [0] * 7, "doc_stride": 128, "max_query_length": 64,
            "offset_starts": [-1, -1, -1, 0, 6, 11, -1], "offset_ends": [-1, -1, -1, 5, 10, 16, -1],
            "context": CONTEXT, "gold": {"answers": ["gamma"]}}  # alpha beta gamma
WINDOW_1 = {**{k: v for k, v in WINDOW_0.items() if k not in ("context", "gold")}, "window": 1,
            "offset_starts": [-1, -1, -1, 6, 11, 17, -1], "offset_ends": [-1, -1, -1, 10, 16, 22, -1]}  # beta gamma delta


def test_best_spans_respects_context_order_and_length():
    start = np.array([9, 0, 0, 1, 5, 2, 0, 0], dtype=float)  # position 0 (CLS) is not context
    end = np.array([9, 0, 0, 0, 1, 4, 3, 9], dtype=float)  # position 7 is not context
    context = np.array([False, False, False, True, True, True, True, False])
    # valid spans of at most 2 tokens: (4,5)=9, (4,4)=6, (5,5)=6, (5,6)=5, (6,6)=3, (3,4)=2, (3,3)=1; (4,6)=8 is too long
    assert best_spans(start, end, context, n_best=3, max_answer_length=2) == [(4, 5), (4, 4), (5, 5)]
    assert best_spans(start, end, context, n_best=10, max_answer_length=2)[-1] == (3, 3)
    assert best_spans(start, end, np.zeros(8, dtype=bool), n_best=3, max_answer_length=2) == []


def decode(allows_no_answer: bool, **settings):
    decoder = SpanDecoder(SpanSettings(n_best=3, **settings), allows_no_answer)
    # window 0: alpha beta gamma; best spans gamma (2+2), alpha..gamma (0+2), beta gamma (0+2); null 1+1
    decoder.add_window(WINDOW_0, np.array([1, -5, -5, 0, 0, 2, -5.0]), np.array([1, -5, -5, 0, 0, 2, -5.0]))
    # window 1: beta gamma delta; best gamma delta (3+4), beta..delta (0+4), gamma (3+1); null 0.5+0.5
    decoder.add_window(WINDOW_1, np.array([0.5, -5, -5, 0, 3, 0, -5]), np.array([0.5, -5, -5, 0, 1, 4, -5]))
    return decoder.result()


def test_nbest_merges_windows_keeps_distinct_texts_and_maps_characters_back():
    out = decode(False)
    assert out["predictions"] == ["gamma delta"] and out["golds"] == [["gamma"]] and out["scores"] == []
    nbest = out["nbest"]["q1"]
    assert [(e["text"], e["start_logit"], e["end_logit"]) for e in nbest] == [
        ("gamma delta", 3.0, 4.0), ("gamma", 2.0, 2.0), ("beta gamma delta", 0.0, 4.0)]  # "gamma" of window 1 is a repeat
    expected = np.exp([7.0, 4.0, 4.0]) / np.exp([7.0, 4.0, 4.0]).sum()
    assert [e["probability"] for e in nbest] == pytest.approx(expected.tolist())
    assert "null_odds" not in out


def test_no_answer_scores_the_lowest_null_against_the_best_span():
    out = decode(True)
    # null score = min(1 + 1, 0.5 + 0.5) = 1; best span 7: null odds 1 - 7 = -6 < threshold 0 -> answer
    assert out["null_odds"] == {"q1": -6.0} and out["scores"] == [-6.0]
    assert out["predictions"] == ["gamma delta"]
    assert [e["text"] for e in out["nbest"]["q1"]] == ["gamma delta", "gamma", "beta gamma delta", ""]
    expected = np.exp([7.0, 4.0, 4.0, 1.0]) / np.exp([7.0, 4.0, 4.0, 1.0]).sum()
    assert [e["probability"] for e in out["nbest"]["q1"]] == pytest.approx(expected.tolist())
    assert decode(True, null_threshold=-6.5)["predictions"] == [""]  # -6 > -6.5: no answer
    assert decode(True, null_threshold=-6.0)["predictions"] == ["gamma delta"]  # not strictly above


def test_a_confident_null_wins():
    decoder = SpanDecoder(SpanSettings(), allows_no_answer=True)
    decoder.add_window(WINDOW_0, np.array([8, 0, 0, 1, 0, 0, 0.0]), np.array([8, 0, 0, 0, 0, 1, 0.0]))
    out = decoder.result()
    assert out["predictions"] == [""] and out["null_odds"]["q1"] == pytest.approx(16 - 2)
    assert out["nbest"]["q1"][0]["text"] == ""


def test_span_loss_is_the_mean_of_start_and_end_cross_entropy():
    logits = torch.zeros(2, 3, 2)
    logits[0, :, 1] = torch.tensor([0.0, math.log(2), 0.0])  # sample 0: end target 1 has p = 2/4
    target = torch.tensor([[2, 1], [0, 0]])
    sample0 = (math.log(3) + math.log(2)) / 2
    sample1 = (math.log(3) + math.log(3)) / 2
    loss = SpanCrossEntropy()
    assert loss(logits, target).item() == pytest.approx((sample0 + sample1) / 2)
    assert loss(logits, target, torch.tensor([1.0, 3.0])).item() == pytest.approx((sample0 + 3 * sample1) / 4)


def test_head_padding_does_not_change_the_loss():
    task = TaskDef(name="squad", task_type="span", data_format="squad_json")
    torch.manual_seed(0)
    head = SpanHead(8, task, dropout=0.0)
    hidden = torch.randn(1, 5, 8)
    padded = torch.cat([hidden, torch.randn(1, 4, 8)], dim=1)
    short = head(hidden, {"attention_mask": torch.ones(1, 5)})
    long = head(padded, {"attention_mask": torch.tensor([[1] * 5 + [0] * 4])})
    assert torch.equal(long[0, 5:], torch.full((4, 2), PADDING_LOGIT))
    target = torch.tensor([[1, 3]])
    assert SpanCrossEntropy()(long, target).item() == pytest.approx(SpanCrossEntropy()(short, target).item(), rel=1e-6)


def test_a_new_threshold_applies_both_ways_from_the_nbest_and_null_odds_files(tmp_path):
    from click.testing import CliRunner

    from mtdnn_core.api import cli as main

    nbest = {"a": [{"text": "", "probability": 0.6}, {"text": "Paris", "probability": 0.4}],
             "b": [{"text": "Rome", "probability": 0.7}, {"text": "", "probability": 0.3}],
             "c": [{"text": "", "probability": 1.0}]}  # no span at all
    (tmp_path / "dev.nbest_predictions.json").write_text(json.dumps(nbest))
    (tmp_path / "dev.null_odds.json").write_text(json.dumps({"a": 0.5, "b": -2.0, "c": 1e9}))
    for threshold, expected in ((1.0, {"a": "Paris", "b": "Rome", "c": ""}), (-3.0, {"a": "", "b": "", "c": ""})):
        result = CliRunner().invoke(main, ["squad", "threshold", str(tmp_path / "dev.nbest_predictions.json"),
                                           str(tmp_path / "dev.null_odds.json"), "--threshold", str(threshold)])
        assert result.exit_code == 0, result.output
        assert json.loads((tmp_path / f"dev.predictions-at-{threshold:g}.json").read_text()) == expected
