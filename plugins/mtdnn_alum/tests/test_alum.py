"""ALUM plugin: divergences, perturbations, SMART, Bregman, pre-training through the trainer."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from mtdnn_alum import divergences as dv
from mtdnn_alum.norms import norm_of, project
from mtdnn_alum.regularizers import SMART, BregmanProximalPoint
from mtdnn_core.api import MultiTaskModel, PoolerHead, TaskDef, cli as main, load_tiny_random_bert
from mtdnn_core.testing import real_data_dir

SHARED = real_data_dir()
P = np.array([0.7, 0.2, 0.1])
Q = np.array([0.3, 0.3, 0.4])
EXPECTED = {  # D(P || Q), by the textbook formulas
    "reverse_kl": float(np.sum(Q * np.log(Q / P))),
    "js": float(0.5 * np.sum(P * np.log(P / ((P + Q) / 2))) + 0.5 * np.sum(Q * np.log(Q / ((P + Q) / 2)))),
    "hellinger": float(1 - np.sum(np.sqrt(P * Q))),
    "chi2": float(np.sum((P - Q) ** 2 / Q)),
    "tv": float(0.5 * np.sum(np.abs(P - Q))),
    "stable_sym_kl": float(np.sum(P * np.log(P / Q)) + np.sum(Q * np.log(Q / P))),
}


def logits_of(p):
    return torch.tensor(np.log(p)[None], dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_divergence_closed_forms(name):
    cls = dv.DIVERGENCES[name][0]
    value = cls()(logits_of(Q), logits_of(P)).item()  # input Q, target P: D(P || Q)
    assert value == pytest.approx(EXPECTED[name], rel=1e-5)
    assert cls()(logits_of(P), logits_of(P)).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("name", ["reverse_kl", "js", "hellinger", "chi2"])
def test_divergence_gradients_match_finite_differences(name):
    cls = dv.DIVERGENCES[name][0]
    x = torch.tensor([[0.3, -0.2, 0.5]], dtype=torch.float64, requires_grad=True)
    target = torch.tensor([[1.0, 0.1, -0.7]], dtype=torch.float64)
    # float32 inside: compare with a generous tolerance
    cls()(x, target).backward()
    numeric = []
    for i in range(3):
        e = torch.zeros_like(x)
        e[0, i] = 1e-3
        numeric.append((cls()(x + e, target) - cls()(x - e, target)).item() / 2e-3)
    assert x.grad[0].tolist() == pytest.approx(numeric, rel=2e-2, abs=1e-4)
    assert x.grad.abs().sum() > 0  # the Hellinger loss of the original had no gradient


def test_stable_symmetric_kl_gradient_is_each_directions_pull():
    """Each direction detaches its reference: the gradient w.r.t. the input is that of KL(p || q)."""
    from mtdnn_core.api import KLDivergence

    x = torch.tensor([[0.3, -0.2, 0.5]], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([[1.0, 0.1, -0.7]], dtype=torch.float64, requires_grad=True)
    dv.StableSymmetricKL()(x, t).backward()
    x2, t2 = x.detach().clone().requires_grad_(), t.detach().clone().requires_grad_()
    KLDivergence()(x2, t2.detach()).backward()
    KLDivergence()(t2, x2.detach()).backward()
    assert torch.allclose(x.grad, x2.grad, atol=1e-6) and torch.allclose(t.grad, t2.grad, atol=1e-6)


def test_divergences_stable_in_bf16():
    a = (torch.randn(64, 5) * 30).bfloat16()
    b = (torch.randn(64, 5) * 30).bfloat16()
    for name, (cls, _) in dv.DIVERGENCES.items():
        value = cls()(a, b)
        assert torch.isfinite(value), name


@pytest.mark.parametrize("norm", ["inf", "l2", "l1"])
@pytest.mark.parametrize("per_token", [True, False])
def test_projection_respects_the_norm_bound(norm, per_token):
    delta = torch.randn(3, 7, 16) * 5
    bounded = project(delta, norm, 0.01, per_token)
    assert (norm_of(bounded, norm, per_token, None) <= 0.01 * (1 + 1e-5)).all()
    small = torch.randn(3, 7, 16) * 1e-6
    assert torch.allclose(project(small, norm, 0.01, per_token), small)  # inside the ball: unchanged


def tiny_model(task_type="Classification"):
    encoder, tokenizer = load_tiny_random_bert(dropout=0.0)
    task = TaskDef(name="t", task_type=task_type, data_format="PremiseAndOneHypothesis", n_class=2, loss="ce",
                   adv_loss="sym_kl")
    model = MultiTaskModel(encoder, {"t": PoolerHead(encoder.config.hidden_size, task, dropout=0.0)}).eval()
    enc = tokenizer(["a cat sat on the mat", "dogs bark loudly"], ["it sat", "they are loud"], padding=True,
                    return_token_type_ids=True, return_tensors="pt")
    batch = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "token_type_ids": enc["token_type_ids"]}
    return model, task, batch


@pytest.mark.parametrize("mode", ["normalize", "project"])
@pytest.mark.parametrize("norm", ["inf", "l2"])
def test_one_ascent_step_increases_the_divergence(norm, mode):
    """From the same starting noise, one step moves the perturbation to where the prediction
    changes more than at the random start brought to the same size (or into the same ball)."""
    torch.manual_seed(0)
    model, task, batch = tiny_model()
    clean = model("t", batch)
    from mtdnn_alum.perturb import perturbed, target_module

    module = target_module(model.encoder, "embeddings")

    def divergence(delta):
        with perturbed(module, delta):
            return SMART().compare(task, batch, model("t", batch), clean).item()

    settings = {"noise_std": 0.3, "scale": 0.5, "step_size": 0.5, "norm": norm, "mode": mode}
    torch.manual_seed(0)
    start = SMART(steps=0, **settings).perturbation(model, task, batch, clean)
    torch.manual_seed(0)
    moved = SMART(steps=1, **settings).perturbation(model, task, batch, clean)
    assert divergence(moved) > divergence(start) > 0
    assert (norm_of(moved, norm, True, None) <= 0.5 * (1 + 1e-5)).all()


def test_smart_term_has_gradients_for_the_model():
    model, task, batch = tiny_model()
    logits = model("t", batch)
    term = SMART(alpha=2.0)(model, task, batch, logits, None)
    term.backward()
    assert term.item() > 0 and model.encoder.embeddings.word_embeddings.weight.grad.abs().sum() > 0


def test_bregman_term_pulls_towards_the_teacher():
    torch.manual_seed(0)
    model, task, batch = tiny_model()
    reg = BregmanProximalPoint(mu=1.0, beta=0.99)
    reg(model, task, batch, model("t", batch), None)  # the teacher starts as a copy
    with torch.no_grad():
        for p in model.heads.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # the student drifts away
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    distances = []
    for _ in range(10):
        term = reg(model, task, batch, model("t", batch), None)
        distances.append(term.item())
        optimizer.zero_grad()
        term.backward()
        optimizer.step()
    assert distances[-1] < distances[0] and distances[0] > 0
    teacher_before = [p.clone() for p in reg.teacher.parameters()]
    reg.after_update(model)
    moved = [(a - b).abs().max().item() for a, b in zip(reg.teacher.parameters(), teacher_before)]
    assert max(moved) > 0  # the EMA teacher follows the student


@pytest.mark.slow  # about 30 s
@pytest.mark.real_data("glue")
def test_smart_finetune_end_to_end_on_real_rte(tmp_path):
    result = CliRunner().invoke(main, [
        "alum", "finetune", "--plugin", "glue", "--data-dir", str(SHARED / "glue"), "--tasks", "rte,stsb",
        "--encoder", "tiny-random-bert", "--max-train-samples", "200", "--max-eval-samples", "64", "--epochs", "1",
        "--batch-size", "16", "--max-seq-len", "64", "--output-dir", str(tmp_path), "--no-progress",
        "--adv_train", "--adv_alpha", "1", "--adv_p_norm", "l2", "--bregman_mu", "0.5",
    ])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "config.json").read_text())
    assert [r["name"] for r in config["regularizers"]] == ["smart", "bregman"]
    losses = [json.loads(line)["loss"] for line in (tmp_path / "log.jsonl").read_text().splitlines() if '"train"' in line]
    assert losses and all(math.isfinite(x) for x in losses)


def _tiny_encoder_without_mlm_head(folder: Path) -> Path:
    encoder, tokenizer = load_tiny_random_bert()
    encoder.save_pretrained(folder)  # an encoder without a masked-LM head
    tokenizer.save_pretrained(folder)
    return folder


def _pretrain(encoder: Path, out: Path, *extra: str):
    return CliRunner().invoke(main, ["alum", "pretrain", "--encoder", str(encoder), "--corpus",
                                     str(SHARED / "mlm" / "mlm_train.json"), "--output", str(out), "--batch-size", "4",
                                     "--max-seq-len", "64", "--whole-word-mask", "--threads", "2", "--device", "cpu",
                                     "--no-progress", *extra])


@pytest.mark.real_data("mlm")
def test_alum_pretrain_runs_through_the_trainer_and_loads_as_masked_lm(tmp_path):
    from transformers import AutoModelForMaskedLM, BertModel

    tiny = _tiny_encoder_without_mlm_head(tmp_path / "tiny")
    out = tmp_path / "alum"
    result = _pretrain(tiny, out, "--steps", "3", "--log-every", "1")
    assert result.exit_code == 0, result.output
    model = AutoModelForMaskedLM.from_pretrained(out)
    assert model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    summary = json.loads((out / "pretrain_summary.json").read_text())
    assert summary["heldout_blocks"] > 0 and summary["train_blocks"] > summary["heldout_blocks"]
    assert math.isfinite(summary["heldout_mlm_loss_before"]) and math.isfinite(summary["heldout_mlm_loss_after"])
    assert summary["regularizers"] == ["smart"]
    log = [json.loads(line) for line in (out / "run" / "log.jsonl").read_text().splitlines()]
    train = [r for r in log if "reg_smart" in r]
    assert [r["step"] for r in train] == [1, 2, 3]
    for record in train:  # --adv-alpha 10 times the unweighted divergence; unit inf-norm per token
        assert record["reg_smart"] == pytest.approx(10 * record["reg_smart_adv_divergence"], rel=1e-4)
        assert record["reg_smart_perturbation_norm"] == pytest.approx(1.0, rel=1e-3)
    config = json.loads((out / "run" / "config.json").read_text())
    assert config["regularizers"][0]["params"]["alpha"] == 10 and config["tasks"] == ["mlm"]
    assert isinstance(BertModel.from_pretrained(out), BertModel)  # usable as --encoder


@pytest.mark.real_data("mlm")
def test_alum_pretrain_resumes_exactly_and_refuses_to_reuse_a_run(tmp_path):
    from safetensors.torch import load_file

    tiny = _tiny_encoder_without_mlm_head(tmp_path / "tiny")
    full, cut = tmp_path / "full", tmp_path / "cut"
    for out in (full, cut):
        result = _pretrain(tiny, out, "--steps", "4", "--save-every", "2")
        assert result.exit_code == 0, result.output
    again = _pretrain(tiny, cut, "--steps", "4", "--save-every", "2")
    assert again.exit_code == 2 and "--resume" in again.output and "--overwrite" in again.output
    # a run that stopped after its step-2 checkpoint: the step-4 one and the results never written
    import shutil

    shutil.rmtree(cut / "run" / "checkpoint-0000004")
    (cut / "run" / "latest.json").write_text(json.dumps({"checkpoint": "checkpoint-0000002", "step": 2, "epoch": 0}))
    for name in ("model.safetensors", "pretrain_summary.json"):
        (cut / name).unlink()
    resumed = _pretrain(tiny, cut, "--steps", "4", "--save-every", "2", "--resume")
    assert resumed.exit_code == 0, resumed.output
    a, b = load_file(full / "model.safetensors"), load_file(cut / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # SMART's noise and masks replayed
    log = [json.loads(line) for line in (cut / "run" / "log.jsonl").read_text().splitlines()]
    assert [(r["event"], r["step"]) for r in log if r["event"] in ("train", "resume")] == [
        ("train", 1), ("train", 2), ("resume", 2), ("train", 3), ("train", 4)]  # continued, not started again
    summary = json.loads((cut / "pretrain_summary.json").read_text())
    assert summary["steps"] == 4
    assert summary["heldout_mlm_loss_before"] == json.loads((full / "pretrain_summary.json").read_text())["heldout_mlm_loss_before"]


@pytest.mark.real_data("mlm")
def test_alum_pretrain_option_errors_name_the_option(tmp_path):
    result = _pretrain(tmp_path / "missing-encoder", tmp_path / "out", "--adv-step-size", "-1")
    assert result.exit_code == 2 and "--adv-step-size" in result.output and "Traceback" not in result.output


def test_divergences_are_finite_on_minus_infinity_padded_logits():
    import torch

    from mtdnn_alum.divergences import DIVERGENCES

    inf = float("-inf")
    a = torch.tensor([[1.0, 2.0, inf], [0.5, inf, inf]], requires_grad=True)
    b = torch.tensor([[0.3, 1.0, inf], [2.0, inf, inf]], requires_grad=True)
    for name, (cls, _) in DIVERGENCES.items():
        a.grad = b.grad = None
        loss = cls()(a, b)
        loss.backward()
        assert torch.isfinite(loss), name
        assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all(), name
