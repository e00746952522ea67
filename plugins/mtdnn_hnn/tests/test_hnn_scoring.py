"""The scorers and losses against hand computations and an independent forward pass."""
import math

import pytest
import torch
from transformers import AutoModel, AutoModelForMaskedLM

from mtdnn_core.api import MtdnnError, MultiTaskModel, TaskDef, complete_task_def
from mtdnn_hnn import plugin
from mtdnn_hnn.batching import collate_schemas
from mtdnn_hnn.decoding import ChoiceDecoder
from mtdnn_hnn.encoding import encode_schema
from mtdnn_hnn.head import HnnHead, HnnHeadConfig, combine
from mtdnn_hnn.losses import HnnLossConfig, HybridLoss, binary_loss, margin_rank_loss
from mtdnn_hnn.metrics import majority_baseline
from mtdnn_hnn.mlm import NoMaskedLmHead
from mtdnn_hnn.pooling import SpanPooler, Similarity
from mtdnn_hnn.schema import make_schema
from mtdnn_hnn.scores import ChoiceScores, NotLogits


def definition(mtdnn_host):
    host = mtdnn_host(plugin)
    return complete_task_def(TaskDef(name="toy", task_type="candidate_choice", data_format="Winograd"),
                             host.registries.task_types)


def schemas():
    return [
        make_schema(uid="a", sentence="The trophy does not fit into the suitcase because it is too big.",
                    pronoun_start=50, pronoun="it", candidates=["the trophy", "the suitcase"], label=0, where="t:1"),
        make_schema(uid="b", sentence="Joan thanked Susan for the help she had given.", pronoun_start=32, pronoun="she",
                    candidates=["Joan", "Susan", "the bookkeeper at work"], label=1, where="t:2"),
    ]


def test_lm_score_is_the_mean_log_probability_of_the_candidate_tokens(tiny_mlm, tokenizer, mtdnn_host):
    """The head's LM score against Hugging Face's own masked-LM model on the masked sentence."""
    task = definition(mtdnn_host)
    model = MultiTaskModel(AutoModel.from_pretrained(tiny_mlm), {"toy": HnnHead(32, task)}).eval()
    rows = [encode_schema(s, tokenizer, 64) for s in schemas()]
    with torch.no_grad():
        scores = model("toy", collate_schemas(rows, tokenizer.pad_token_id))
        reference = AutoModelForMaskedLM.from_pretrained(tiny_mlm).eval()
        for b, row in enumerate(rows):
            for c, ids in enumerate(row["lm_input_ids"]):
                logits = reference(input_ids=torch.tensor([ids])).logits[0].log_softmax(-1)
                by_hand = sum(logits[p, t].item() for p, t in zip(row["lm_positions"][c], row["lm_targets"][c]))
                assert scores.lm[b, c].item() == pytest.approx(by_hand / len(row["lm_targets"][c]), abs=1e-5)
    assert scores.mask.tolist() == [[True, True, False], [True, True, True]]
    assert model.heads["toy"].mlm.predictions.decoder.weight is model.encoder.get_input_embeddings().weight


def test_attention_pooling_and_similarity_on_a_hand_made_example():
    # one similarity row: [CLS], pronoun (2 tokens), candidate (2 tokens); hidden size 2
    hidden = torch.tensor([[[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 2.0]]])
    pronoun = torch.tensor([[False, True, True, False, False]])
    span = torch.tensor([[False, False, False, True, True]])
    pooler = SpanPooler(2, "attention")
    with torch.no_grad():
        pooler.query.weight.copy_(torch.tensor([[0.0, 1.0], [1.0, 0.0]]))  # query = swapped [CLS] = (0, 1)
    p, c = pooler(hidden, pronoun, span)
    # pronoun: query (1, 0): scores 2/sqrt2 and 0 -> weights e^sqrt2 / (e^sqrt2 + 1)
    w = math.exp(math.sqrt(2)) / (math.exp(math.sqrt(2)) + 1)
    assert p[0].tolist() == pytest.approx([2 * w, 1 - w])
    # candidate: query (0, 1): scores 1/sqrt2 and 2/sqrt2
    v = 1 / (1 + math.exp(1 / math.sqrt(2)))  # weight of (1, 1)
    assert c[0].tolist() == pytest.approx([v, v + 2 * (1 - v)])
    cosine = (p[0] @ c[0] / (p[0].norm() * c[0].norm())).item()
    assert Similarity(2, "cosine")(p, c).item() == pytest.approx(cosine)
    assert Similarity(2, "cosine").probability(torch.tensor(cosine)).item() == pytest.approx((cosine + 1) / 2)
    bilinear = Similarity(2, "bilinear")
    with torch.no_grad():
        bilinear.bilinear.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 3.0]]))
    assert bilinear(p, c).item() == pytest.approx(2 * c[0, 0].item() * p[0, 0].item() + 3 * c[0, 1].item() * p[0, 1].item())
    mean_p, mean_c = SpanPooler(2, "mean")(hidden, pronoun, span)
    assert mean_p[0].tolist() == [1.0, 0.5] and mean_c[0].tolist() == [0.5, 1.5]
    first_p, first_c = SpanPooler(2, "first")(hidden, pronoun, span)
    assert first_p[0].tolist() == [2.0, 0.0] and first_c[0].tolist() == [1.0, 1.0]


def test_hybrid_averages_the_scorers_distributions_over_candidates():
    lm = torch.tensor([[math.log(0.2), math.log(0.05), 0.0]])  # third candidate is padding
    sim_prob = torch.tensor([[0.6, 0.9, 0.5]])
    mask = torch.tensor([[True, True, False]])
    # LM distribution (0.8, 0.2), similarity distribution (0.4, 0.6)
    assert combine(lm, sim_prob, mask, 0.5, "normalized")[0, :2].tolist() == pytest.approx([0.6, 0.4])
    assert combine(lm, sim_prob, mask, 0.25, "normalized")[0, :2].tolist() == pytest.approx([0.5, 0.5])
    # HNN's raw average: the similarity's larger scale decides
    assert combine(lm, sim_prob, mask, 0.5, "raw")[0, :2].tolist() == pytest.approx([0.4, 0.475])


def test_margin_ranking_loss_matches_hnns_formula():
    """HNN's rank_loss: -log softmax(gamma * (x + beta * [wrong]))[answer]."""
    mask = torch.ones(1, 2, dtype=torch.bool)
    loss, defined = margin_rank_loss(torch.tensor([[0.8, 0.3]]), torch.tensor([[1, 0]]), mask, 0.6, 10.0)
    z = [10 * 0.8, 10 * (0.3 + 0.6)]
    assert loss.item() == pytest.approx(math.log(math.exp(z[0]) + math.exp(z[1])) - z[0]) and defined.item()
    # a false WNLI hypothesis: candidate 0 is wrong, 1 and 2 may be right and must win together
    x = torch.tensor([[0.2, 0.5, 0.9]])
    loss, _ = margin_rank_loss(x, torch.tensor([[0, -1, -1]]), torch.ones(1, 3, dtype=torch.bool), 0.6, 10.0)
    z = [8.0, 5.0, 9.0]
    assert loss.item() == pytest.approx(math.log(sum(map(math.exp, z))) - math.log(math.exp(5) + math.exp(9)))


def test_binary_loss_matches_hnns_formula():
    loss, _ = binary_loss(torch.tensor([[0.5, -0.2]]), torch.tensor([[0, 1]]), torch.ones(1, 2, dtype=torch.bool), 0.1, 2.0)
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    assert loss.item() == pytest.approx((-math.log(sig(2 * -0.2)) - math.log(sig(-2 * (0.5 + 0.1)))) / 2)


def test_combined_loss_sums_the_three_and_skips_what_a_row_cannot_define():
    lm = torch.tensor([[-1.0, -2.0, 0.0], [-0.5, -3.0, -4.0]], requires_grad=True)
    sim = torch.tensor([[0.4, -0.4, 0.0], [0.1, 0.2, 0.3]], requires_grad=True)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    sim_prob = torch.sigmoid(sim)
    hybrid = (lm.exp() + sim_prob) / 2
    scores = ChoiceScores(lm, sim, sim_prob, hybrid, mask)
    targets = torch.tensor([[1, 0, -1], [0, -1, -1]])  # row 2: a false WNLI hypothesis, answer unknown
    loss = HybridLoss(HnnLossConfig(hybrid={"weight": 2.0}))(scores, targets)
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    lm_part = 1.0  # -lm[answer] of row 1 only
    sim_part = ((-math.log(sig(0.4)) - math.log(sig(0.4))) / 2 + -math.log(sig(-0.1))) / 2
    h = hybrid.detach().tolist()
    row1 = math.log(math.exp(10 * h[0][0]) + math.exp(10 * (h[0][1] + 0.6))) - 10 * h[0][0]
    row2 = (math.log(sum(math.exp(10 * (h[1][j] + (0.6 if j == 0 else 0))) for j in range(3)))
            - math.log(math.exp(10 * h[1][1]) + math.exp(10 * h[1][2])))
    assert loss.item() == pytest.approx(lm_part + sim_part + 2 * (row1 + row2) / 2, rel=1e-5)
    loss.backward()
    assert torch.isfinite(lm.grad).all() and torch.isfinite(sim.grad).all()
    # a row with nothing to rank (no wrong candidate known) gives finite, zero ranking gradients
    lone = ChoiceScores(lm[:1], sim[:1], sim_prob[:1], hybrid[:1], mask[:1])
    rank, defined = margin_rank_loss(lone.hybrid, torch.tensor([[-1, -1, -1]]), lone.mask, 0.6, 10.0)
    assert not defined.item() and rank.item() == 0.0


def test_decoder_predicts_choices_and_entailment_per_scorer():
    rows = [{"uid": "a", "candidates": ["x", "y"], "label": 1, "hypothesis": None},
            {"uid": "b", "candidates": ["p", "q", "r"], "label": 0, "hypothesis": 0}]
    mask = torch.tensor([[True, True, False], [True, True, True]])
    lm = torch.tensor([[-3.0, -1.0, 0.0], [-0.1, -2.0, -2.0]])  # LM: y; p (the hypothesis's noun: entailed)
    sim_prob = torch.tensor([[0.9, 0.2, 0.0], [0.1, 0.8, 0.3]])  # similarity: x; q (not entailed)
    hybrid = torch.tensor([[0.4, 0.5, 0.0], [0.3, 0.6, 0.2]])
    decoder = ChoiceDecoder()
    decoder.add(rows, {}, ChoiceScores(lm, sim_prob, sim_prob, hybrid, mask))
    out = decoder.result()
    assert out["predictions"] == [1, 0] and out["lm_predictions"] == [1, 1] and out["sim_predictions"] == [0, 0]
    assert out["golds"] == [1, 0]
    assert majority_baseline(torch.tensor([0, 1, 1]).numpy()) == pytest.approx(2 / 3)


def test_code_made_for_logits_gets_a_clear_error():
    scores = ChoiceScores(*[torch.zeros(1, 2)] * 4, torch.ones(1, 2, dtype=torch.bool))
    assert not hasattr(scores, "logits")
    with pytest.raises(NotLogits, match=r"not a logits tensor \(asked for '.detach'\).*params: \{tasks: \[...\]\}"):
        scores.detach()


def test_an_encoder_without_masked_lm_head_is_refused_with_the_way_to_get_one(tiny_bare, mtdnn_host):
    task = definition(mtdnn_host)
    with pytest.raises(NoMaskedLmHead, match=r"(?s)has no masked-LM head.*mtdnn alum pretrain --encoder"):
        MultiTaskModel(AutoModel.from_pretrained(tiny_bare), {"toy": HnnHead(32, task)})
    from mtdnn_core.api import load_tiny_random_bert

    with pytest.raises(MtdnnError, match="(?s)was not loaded from a directory or hub name.*mtdnn alum pretrain"):
        MultiTaskModel(load_tiny_random_bert()[0], {"toy": HnnHead(32, task)})


def test_mlm_source_may_point_elsewhere(tiny_bare, tiny_mlm, mtdnn_host):
    task = definition(mtdnn_host)
    head = HnnHead(32, task, HnnHeadConfig(mlm_source=str(tiny_mlm)))
    model = MultiTaskModel(AutoModel.from_pretrained(tiny_bare), {"toy": head})
    assert head.mlm.predictions.decoder.weight is model.encoder.get_input_embeddings().weight
