"""The adversarial perturbation has the size it is configured to have, is normalised as the
original toolkit does, and changes the model enough to matter on real data."""
import csv
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from mtdnn_alum.adversary import AdversarialPerturbation, PerturbationConfig
from mtdnn_alum.cli import ORIGINAL_OPTIONS, smart_params
from mtdnn_alum.norms import norm_of, normalize
from mtdnn_alum.regularizers import SMART, BregmanProximalPoint, PosteriorDifferential, divergence_name
from mtdnn_core.api import (
    MultiTaskModel,
    PoolerHead,
    TaskDef,
    load_hf_encoder,
    load_tiny_random_bert,
    packaged_minilm_path,
)
from mtdnn_core.testing import real_data

RTE = TaskDef(name="rte", task_type="Classification", data_format="PremiseAndOneHypothesis", n_class=2, loss="ce",
              adv_loss="sym_kl")


def real_rte_batch(tokenizer, rows=8, max_len=64):
    with open(real_data("glue", "RTE", "train.tsv"), encoding="utf-8") as handle:  # skips when missing
        lines = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1 : rows + 1]
    enc = tokenizer([r[1] for r in lines], [r[2] for r in lines], padding=True, truncation=True, max_length=max_len,
                    return_token_type_ids=True, return_tensors="pt")
    labels = torch.tensor([1 if r[3] == "entailment" else 0 for r in lines])
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
            "token_type_ids": enc["token_type_ids"]}, labels


@pytest.fixture(scope="module")
def minilm_rte():
    """all-MiniLM-L6-v2 with a fresh pooler head, dropout off (so that every difference between
    two forward passes is the perturbation's), and 4 real RTE training rows."""
    torch.manual_seed(0)
    encoder, tokenizer = load_hf_encoder(packaged_minilm_path(), dropout=0.0)
    model = MultiTaskModel(encoder, {"rte": PoolerHead(encoder.config.hidden_size, RTE, dropout=0.0)}).eval()
    batch, labels = real_rte_batch(tokenizer, rows=4, max_len=48)
    return model, batch, labels


def encoder_gradient_norm(model, value):
    grads = torch.autograd.grad(value, list(model.encoder.parameters()), retain_graph=True, allow_unused=True)
    return torch.sqrt(sum((g.float() ** 2).sum() for g in grads if g is not None))


def test_default_smart_term_is_not_negligible_on_real_rte(minilm_rte):
    """What the term does to training is its gradient on the shared encoder next to the task
    loss's. We require it to be at least 10% of the task gradient: of the same order, so that the
    update direction really changes. The old defaults (epsilon-ball of 1e-5 on the raw word
    embeddings, whose entries are about 0.04) gave about 2e-8 of it, i.e. nothing; the defaults
    give about 0.6 here."""
    model, batch, labels = minilm_rte
    torch.manual_seed(1)
    logits = model("rte", batch)
    task_loss = F.cross_entropy(logits, labels)
    task_gradient = encoder_gradient_norm(model, task_loss)
    smart = SMART()
    term = smart(model, RTE, batch, logits, task_loss)
    assert encoder_gradient_norm(model, term) / task_gradient > 0.1
    # unit inf-norm per token; within 1% because with dropout off a row whose divergence underflows
    # at the 1e-5 start has no gradient and keeps its random start, rescaled to 0.97
    assert smart.log_values()["perturbation_norm"] == pytest.approx(1.0, rel=1e-2)

    torch.manual_seed(1)
    paper_literal = SMART(where="word_embeddings", mode="project", scale=1e-5, ascent="steepest", noise_std=1e-5 ** 0.5)
    assert paper_literal(model, RTE, batch, logits.detach(), task_loss).item() / task_loss.item() < 1e-6  # measured 5e-10


def test_the_ascent_finds_what_random_noise_of_the_same_size_does_not(minilm_rte):
    """The point of the ascent: at the same norm, the gradient direction changes the prediction
    far more than a random one (measured: about 100x; required: 10x). The original toolkit's
    raw-gradient step (about 1e-5 of its starting noise) is, in effect, the random one."""
    model, batch, _ = minilm_rte
    with torch.no_grad():
        logits = model("rte", batch)

    def divergence(**params):
        torch.manual_seed(2)
        reg = PosteriorDifferential(**params)
        reg(model, RTE, batch, logits, None)
        return reg.log_values()["adv_divergence"]

    adversarial, random = divergence(), divergence(steps=0)
    assert adversarial > 10 * random
    assert divergence(ascent="raw", step_size=1e-5) < 2 * random


@pytest.fixture
def tiny_padded():
    encoder, tokenizer = load_tiny_random_bert(dropout=0.0)
    task = TaskDef(name="t", task_type="Classification", data_format="PremiseAndOneHypothesis", n_class=3, loss="ce",
                   adv_loss="sym_kl")
    model = MultiTaskModel(encoder, {"t": PoolerHead(encoder.config.hidden_size, task, dropout=0.0)}).eval()
    enc = tokenizer(["a cat sat on the mat near the door", "dogs bark"], ["it sat", "loud"], padding=True,
                    return_token_type_ids=True, return_tensors="pt")
    batch = {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    return model, task, batch


@pytest.mark.parametrize("norm", ["inf", "l2", "l1"])
@pytest.mark.parametrize("granularity", ["token", "sentence"])
@pytest.mark.parametrize("scale", [0.5, 2.0])
@pytest.mark.parametrize("epsilon, tolerance", [
    (1e-6, 2e-3),  # the default stabiliser: scale * n / (n + 1e-6), n ~ 1e-3 (one step of 1e-3) -> 0.1% short
    (0.0, 1e-5),
])
def test_perturbation_norm_after_the_step_equals_the_scale(tiny_padded, norm, granularity, scale, epsilon, tolerance):
    """noise_std 1e-3: the tiny random model's logits barely move, and from a 1e-5 start its
    divergence can underflow to exactly 0 in float32 for a whole row; then there is no gradient
    and that row keeps its random start, ~1e-5 in size, which the 1e-6 stabiliser visibly
    shrinks. The defaults on a real model are checked in the RTE test above."""
    model, task, batch = tiny_padded
    torch.manual_seed(0)
    smart = SMART(norm=norm, granularity=granularity, scale=scale, epsilon=epsilon, noise_std=1e-3)
    with torch.no_grad():
        logits = model("t", batch)
    delta = smart.perturbation(model, task, batch, logits)
    mask = batch["attention_mask"].unsqueeze(-1).float()
    norms = norm_of(delta, norm, granularity == "token", mask)
    if granularity == "token":
        norms = norms.squeeze(-1)[batch["attention_mask"].bool()]  # real tokens only
    assert norms.flatten().tolist() == pytest.approx([scale] * norms.numel(), rel=tolerance)
    assert delta[~batch["attention_mask"].bool()].abs().max() == 0  # padding is never perturbed
    assert smart.adversary.log_values()["perturbation_norm"] == pytest.approx(scale, rel=tolerance)


def test_normalisation_by_hand():
    x = torch.tensor([[[3.0, -4.0, 0.0], [0.5, 0.25, -1.0]]])
    assert normalize(x, "inf", True)[0, 0].tolist() == pytest.approx([0.75, -1.0, 0.0])
    assert normalize(x, "l2", True)[0, 0].tolist() == pytest.approx([0.6, -0.8, 0.0])
    assert normalize(x, "l1", True)[0, 0].tolist() == pytest.approx([3 / 7, -4 / 7, 0.0])
    assert normalize(x, "inf", False)[0, 1].tolist() == pytest.approx([0.125, 0.0625, -0.25])  # sentence max is 4
    # the original's stabiliser: x / (max|x| + epsilon)
    assert normalize(x, "inf", True, epsilon=1.0)[0, 0].tolist() == pytest.approx([0.6, -0.8, 0.0])


@pytest.mark.parametrize("ascent, expected", [
    # step 2 by hand, from d1 = 2 * w / max|w| = [2, -1, 0.5] and gradient g = w + c * d1 = [4, -5, -0.5]:
    ("raw", [2.0, -1.25, 0.375]),                   # d1 + 0.1 g = [2.4, -1.5, 0.45], rescaled to max 2
    ("normalized", [2.0, -2.2 / 2.08, 0.98 / 2.08]),  # d1 + 0.1 g / 5 = [2.08, -1.1, 0.49], rescaled to max 2
])
def test_two_steps_of_the_original_normalisation_by_hand(ascent, expected):
    """objective(d) = w.d + 0.5 c.d^2 has gradient w + c*d; each step adds step_size times the
    (raw or normalised) gradient, then rescales every token to inf-norm `scale`; padding stays 0."""
    w = torch.tensor([[[2.0, -1.0, 0.5], [1.0, 1.0, 1.0]]])
    c = torch.tensor([1.0, 4.0, -2.0])
    mask = torch.tensor([[[1.0], [0.0]]])
    adversary = AdversarialPerturbation(PerturbationConfig(steps=2, noise_std=0.0, step_size=0.1, scale=2.0,
                                                           epsilon=1e-6, ascent=ascent))
    delta = adversary.find(lambda d: d, lambda out: (w * out).sum() + 0.5 * (c * out**2).sum(), (1, 2, 3), mask)
    assert delta[0, 0].tolist() == pytest.approx(expected, rel=1e-4)  # the stabiliser 1e-6 moves digits past 1e-5
    assert delta[0, 1].tolist() == [0.0, 0.0, 0.0]


def test_log_values_are_the_last_steps_unweighted_pieces(tiny_padded):
    model, task, batch = tiny_padded
    logits = model("t", batch)
    smart = SMART(alpha=3.0)
    term = smart(model, task, batch, logits, None)
    assert all(isinstance(v, torch.Tensor) and not v.requires_grad for v in smart._last.values())  # no per-step sync
    values = smart.log_values()
    assert set(values) == {"adv_divergence", "start_divergence", "perturbation_norm", "start_noise_cosine"}
    assert all(isinstance(v, float) for v in values.values())
    assert 3.0 * values["adv_divergence"] == pytest.approx(term.item(), rel=1e-5)

    bregman = BregmanProximalPoint(mu=0.5)
    term = bregman(model, task, batch, model("t", batch), None)
    assert set(bregman.log_values()) == {"divergence"}
    assert 0.5 * bregman.log_values()["divergence"] == pytest.approx(term.item(), abs=1e-7)


def test_divergence_follows_adv_loss_and_either_spelling_of_the_task_type():
    assert divergence_name(SimpleNamespace(task_type="Regression", settings={})) == "mse"
    assert divergence_name(SimpleNamespace(task_type="regression", settings={})) == "mse"
    assert divergence_name(SimpleNamespace(task_type="classification", settings={})) == "sym_kl"
    assert divergence_name(SimpleNamespace(task_type="regression", settings={"adv_loss": "js"})) == "js"
    assert divergence_name(SimpleNamespace(task_type="regression", settings={"adv_loss": "js"}), override="tv") == "tv"


def test_original_option_names_map_to_the_defaults():
    defaults = {option.name: option.default for option in ORIGINAL_OPTIONS}
    assert SMART.Config(**smart_params(defaults)) == SMART.Config()


def test_bad_settings_say_how_to_fix_them():
    with pytest.raises(ValidationError, match="noise_std"):
        SMART(noise_var=1e-5)
    with pytest.raises(ValidationError, match="embeddings, word_embeddings or layer:N"):
        SMART(where="pooler")


@pytest.mark.parametrize("norm", ["inf", "l2", "l1"])
@pytest.mark.parametrize("granularity", ["token", "sentence"])
def test_default_size_is_the_norm_of_a_vector_of_ones(tiny_padded, norm, granularity):
    """Left at its default, the size is ||(1, ..., 1)||_p over what one norm covers: 1 (inf),
    sqrt(n) (l2), n (l1), with n the hidden width per token or real tokens x width per sentence."""
    model, task, batch = tiny_padded
    width = model.encoder.config.hidden_size
    torch.manual_seed(0)
    smart = SMART(norm=norm, granularity=granularity, epsilon=0.0, noise_std=1e-3)
    with torch.no_grad():
        logits = model("t", batch)
    delta = smart.perturbation(model, task, batch, logits)
    mask = batch["attention_mask"].unsqueeze(-1).float()
    norms = norm_of(delta, norm, granularity == "token", mask)
    if granularity == "token":
        norms = norms.squeeze(-1)[batch["attention_mask"].bool()].flatten().tolist()
        counts = [width] * len(norms)
    else:
        norms = norms.flatten().tolist()
        counts = [int(n) * width for n in batch["attention_mask"].sum(1)]
    expected = {"inf": [1.0] * len(counts), "l2": [c ** 0.5 for c in counts], "l1": [float(c) for c in counts]}[norm]
    assert norms == pytest.approx(expected, rel=1e-5)


def test_a_perturbation_left_at_its_random_start_is_warned_about_once(tiny_padded, caplog):
    """A step far smaller than the starting noise cannot turn it: cosine ~1 with the noise."""
    model, task, batch = tiny_padded
    with torch.no_grad():
        logits = model("t", batch)
    stuck = SMART(step_size=1e-9, noise_std=1e-3)
    with caplog.at_level("WARNING", logger="mtdnn.alum"):
        for _ in range(2):
            stuck(model, task, batch, logits, None)
            assert stuck.log_values()["start_noise_cosine"] > 0.9  # per-token rescaling alone turns it slightly
    warnings = [r for r in caplog.records if "random start" in r.getMessage()]
    assert len(warnings) == 1 and "step_size" in warnings[0].getMessage()
    caplog.clear()
    moving = SMART(step_size=0.5, noise_std=1e-3)
    with caplog.at_level("WARNING", logger="mtdnn.alum"):
        moving(model, task, batch, logits, None)
        assert moving.log_values()["start_noise_cosine"] < 0.9
    assert not [r for r in caplog.records if "random start" in r.getMessage()]
