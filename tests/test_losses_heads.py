"""Losses and heads against hand computations."""
import math

import numpy as np
import pytest
import torch

from mtdnn_core import losses
from mtdnn_core.config import TaskDef
from mtdnn_core.model.heads import PoolerHead, RankingHead
from mtdnn_core.model.san import SANHead


def test_weighted_cross_entropy_by_hand():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    target = torch.tensor([0, 0])
    per = [-math.log(math.exp(2) / (math.exp(2) + 1)), -math.log(1 / (1 + math.e))]
    assert losses.CrossEntropy()(logits, target).item() == pytest.approx(sum(per) / 2, rel=1e-6)
    weights = torch.tensor([1.0, 3.0])
    assert losses.CrossEntropy()(logits, target, weights).item() == pytest.approx((per[0] + 3 * per[1]) / 4, rel=1e-6)


def test_mse_and_ranking_ce_and_sequence_ce():
    assert losses.MeanSquaredError()(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 1.0])).item() == pytest.approx(2.5)
    scores = torch.tensor([[1.0, 2.0, float("-inf")]])  # third candidate is padding
    expected = -math.log(math.exp(2) / (math.e + math.exp(2)))
    assert losses.RankingCrossEntropy()(scores, torch.tensor([1])).item() == pytest.approx(expected, rel=1e-6)
    logits = torch.zeros(1, 3, 4)
    target = torch.tensor([[-100, 2, -100]])
    assert losses.SequenceCrossEntropy()(logits, target).item() == pytest.approx(math.log(4), rel=1e-6)


def test_kl_and_symmetric_kl_by_hand():
    p, q = np.array([0.7, 0.3]), np.array([0.4, 0.6])
    kl_pq = float(np.sum(p * np.log(p / q)))
    kl_qp = float(np.sum(q * np.log(q / p)))
    lp, lq = torch.tensor(np.log(p)[None]).float(), torch.tensor(np.log(q)[None]).float()
    assert losses.KLDivergence()(lq, lp).item() == pytest.approx(kl_pq, rel=1e-5)
    assert losses.SymmetricKL()(lq, lp).item() == pytest.approx(kl_pq + kl_qp, rel=1e-5)


def test_pooler_head_applies_tanh_by_hand():
    task = TaskDef(name="t", task_type="Classification", data_format="PremiseOnly", n_class=2)
    head = PoolerHead(3, task, dropout=0.0).eval()
    with torch.no_grad():
        head.dense.weight.copy_(torch.eye(3) * 10)
        head.dense.bias.zero_()
        head.out.weight.copy_(torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]))
        head.out.bias.zero_()
    hidden = torch.tensor([[[1.0, -2.0, 0.5], [9.0, 9.0, 9.0]]])
    out = head(hidden, {})
    assert out.tolist()[0] == pytest.approx([math.tanh(10), math.tanh(-20)], rel=1e-6)


def test_ranking_head_masks_missing_candidates():
    task = TaskDef(name="q", task_type="Ranking", data_format="PremiseAndMultiHypothesis")
    head = RankingHead(4, task, dropout=0.0).eval()
    mask = torch.tensor([[True, True, False]])
    scores = head(torch.randn(3, 5, 4), {"candidate_mask": mask})
    assert scores.shape == (1, 3) and torch.isinf(scores[0, 2]) and torch.isfinite(scores[0, :2]).all()


def _san_by_hand(h, segments, head):
    """SAN forward in NumPy, written from the paper's equations."""
    W = {k: v.detach().numpy().astype(np.float64) for k, v in head.state_dict().items()}
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731

    def softmax(x):
        e = np.exp(x - x.max())
        return e / e.sum()

    premise = [j for j, s in enumerate(segments) if s == 0]
    hyp = [j for j, s in enumerate(segments) if s == 1]
    a = softmax(np.array([W["query_summary.weight"][0] @ h[j] + W["query_summary.bias"][0] for j in hyp]))
    s = sum(a[i] * h[j] for i, j in enumerate(hyp))
    probs = []
    for _ in range(head.turns):
        beta = softmax(np.array([h[j] @ (W["attn.weight"] @ s) for j in premise]))
        x = sum(beta[i] * h[j] for i, j in enumerate(premise))
        feats = np.concatenate([x, s, np.abs(x - s), x * s])
        probs.append(softmax(W["classifier.weight"] @ feats + W["classifier.bias"]))
        Wi, Wh, bi, bh = W["rnn.weight_ih"], W["rnn.weight_hh"], W["rnn.bias_ih"], W["rnn.bias_hh"]
        n = len(s)
        gi, gh = Wi @ x + bi, Wh @ s + bh
        r, z = sig(gi[:n] + gh[:n]), sig(gi[n : 2 * n] + gh[n : 2 * n])
        cand = np.tanh(gi[2 * n :] + r * gh[2 * n :])
        s = (1 - z) * cand + z * s
    return np.log(np.mean(probs, axis=0))


def test_san_forward_matches_hand_computation():
    torch.manual_seed(0)
    task = TaskDef(name="rte", task_type="Classification", data_format="PremiseAndOneHypothesis", n_class=3)
    head = SANHead(4, task, turns=3, dropout=0.0, memory_dropout=0.0, turn_dropout=0.0).eval()
    hidden = torch.randn(1, 7, 4)
    segments = [-1, 0, 0, 0, -1, 1, 1]
    out = head(hidden, {"segment_ids": torch.tensor([segments])})
    expected = _san_by_hand(hidden[0].double().numpy(), segments, head)
    np.testing.assert_allclose(out[0].detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_san_turn_dropout_keeps_a_proper_distribution_and_trains_in_bf16():
    torch.manual_seed(1)
    task = TaskDef(name="rte", task_type="Classification", data_format="PremiseAndOneHypothesis", n_class=2)
    head = SANHead(8, task, turns=5, turn_dropout=0.9).train()
    batch = {"segment_ids": torch.tensor([[-1, 0, 0, -1, 1, 1, -1]] * 16)}
    hidden = torch.randn(16, 7, 8, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logp = head(hidden, batch)
    assert torch.allclose(logp.exp().sum(-1), torch.ones(16), atol=1e-4)
    loss = losses.CrossEntropy()(logp, torch.zeros(16, dtype=torch.long))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(hidden.grad).all()


def test_kl_is_finite_on_logits_padded_with_minus_infinity():
    from mtdnn_core.losses import KLDivergence, SymmetricKL

    inf = float("-inf")
    a = torch.tensor([[1.0, 2.0, inf], [0.0, inf, inf]], requires_grad=True)
    b = torch.tensor([[0.5, 1.0, inf], [3.0, inf, inf]], requires_grad=True)
    p, q = torch.softmax(b[0, :2].detach(), -1), torch.softmax(a[0, :2].detach(), -1)
    by_hand = float((p * (p / q).log()).sum()) / 2  # row 2 has one candidate: KL 0
    assert KLDivergence()(a, b).item() == pytest.approx(by_hand, rel=1e-5)
    loss = SymmetricKL()(a, b)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
    assert a.grad[:, 2].abs().sum() == 0
