"""How much do the adversarial terms change the model? On real RTE rows with all-MiniLM-L6-v2,
for several perturbation settings: the term against the task loss (value and, what matters for
training, the gradient on the shared encoder), and the divergence that dropout alone puts
between two forward passes. The same for ALUM's masked-LM term. Prints JSON and writes it to
``--out``.

    python benchmarks/smart_scale.py --num-threads 1

Measured fresh (pretrained encoder, new head) and after ``--warm-steps`` plain fine-tuning
updates; "eval" has dropout off (the perturbation's effect alone), "train" on (what training sees).
"""
from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from mtdnn_core.testing import real_data_dir

SHARED = real_data_dir()
SETTINGS = {
    "old plugin default (epsilon-ball 1e-5 on word embeddings)": (
        "smart", {"where": "word_embeddings", "mode": "project", "scale": 1e-5, "ascent": "steepest", "noise_std": 1e-5 ** 0.5}),
    "original toolkit (raw gradient step 1e-5)": ("smart", {"ascent": "raw", "step_size": 1e-5}),
    "default": ("smart", {}),
    "default, scale 0.3": ("smart", {"scale": 0.3}),
    "default, scale 3": ("smart", {"scale": 3.0}),
    "random direction, same size (steps 0)": ("smart", {"steps": 0}),
    "pdr default (js)": ("pdr", {}),
    "pdr random (steps 0)": ("pdr", {"steps": 0}),
}
MLM_SETTINGS = {
    "old plugin default": {"mode": "project", "scale": 1e-5, "ascent": "steepest", "noise_std": 1e-5 ** 0.5},
    "original toolkit (raw gradient step 1e-5)": {"ascent": "raw", "step_size": 1e-5},
    "default": {},
    "random direction, same size (steps 0)": {"steps": 0},
}


def rte_rows():
    with open(SHARED / "glue" / "RTE" / "train.tsv", encoding="utf-8") as handle:
        return list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]


def encoder_grad_norm(model, value):
    grads = torch.autograd.grad(value, list(model.encoder.parameters()), retain_graph=True, allow_unused=True)
    return float(torch.sqrt(sum((g.float() ** 2).sum() for g in grads if g is not None)))


def rte_setup(args):
    """The ALUM plugin's registries, all-MiniLM-L6-v2 with a fresh pooler head for RTE, the task,
    the real RTE training rows and ``batch(start)``: tokenized rows from ``start`` with labels."""
    from mtdnn_core.api import (
        MultiTaskModel,
        PluginHost,
        PoolerHead,
        TaskDef,
        load_hf_encoder,
        packaged_minilm_path,
    )

    registries = PluginHost(["alum"]).registries
    torch.manual_seed(0)
    encoder, tokenizer = load_hf_encoder(packaged_minilm_path())
    task = TaskDef(name="rte", task_type="Classification", data_format="PremiseAndOneHypothesis", n_class=2, loss="ce",
                   adv_loss="sym_kl")
    model = MultiTaskModel(encoder, {"rte": PoolerHead(encoder.config.hidden_size, task)})
    rows = rte_rows()

    def batch(start):
        chunk = rows[start : start + args.batch_size]
        enc = tokenizer([r[1] for r in chunk], [r[2] for r in chunk], padding=True, truncation=True,
                        max_length=args.max_seq_len, return_token_type_ids=True, return_tensors="pt")
        return {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids")}, \
            torch.tensor([1 if r[3] == "entailment" else 0 for r in chunk])

    return registries, model, task, rows, batch


def measure_classification(args):
    registries, model, task, rows, batch = rte_setup(args)
    probe, labels = batch(len(rows) - args.batch_size)  # never trained on

    def measure(stage):
        out = {}
        for mode in ("eval", "train"):
            model.train(mode == "train")
            torch.manual_seed(1)
            logits = model("rte", probe)
            task_loss = F.cross_entropy(logits, labels)
            task_grad = encoder_grad_norm(model, task_loss)
            with torch.no_grad():
                again = model("rte", probe)  # dropout alone (0 in eval mode)
            floor = float(registries.losses.build("sym_kl")(again, logits.detach()))
            rows_out = {"task_loss": float(task_loss), "dropout_only_sym_kl": floor, "settings": {}}
            for name, (kind, params) in SETTINGS.items():
                regularizer = registries.regularizers.build(kind, params, registries=registries)
                torch.manual_seed(2)
                term = regularizer(model, task, probe, logits, task_loss)
                rows_out["settings"][name] = {
                    "term_over_task_loss": float(term) / float(task_loss),
                    "encoder_grad_ratio": encoder_grad_norm(model, term) / task_grad,
                    **regularizer.log_values()}
            out[mode] = rows_out
        return {stage: out}

    result = measure("fresh")
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    for step in range(args.warm_steps):
        inputs, y = batch(step * args.batch_size)
        loss = F.cross_entropy(model("rte", inputs), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    result.update(measure(f"after {args.warm_steps} updates"))
    return result


def measure_mlm(args, work: Path):
    """ALUM's term on one masked batch of the corpus, built as ``mtdnn alum pretrain`` builds it
    (the ``mlm`` task through the trainer, MiniLM given a new masked-LM head)."""
    from mtdnn_core.api import PluginHost, Trainer, build_train_config
    from mtdnn_alum.pretrain import TASK, _corpus_dir
    from mtdnn_alum.regularizers import SMART

    torch.manual_seed(0)
    config = build_train_config({
        "tasks": [TASK], "encoder": "all-minilm-l6-v2", "data_dir": str(_corpus_dir(SHARED / "mlm" / "mlm_train.json", work)),
        "output_dir": str(work / "run"), "plugins": ["alum"], "batch_size": args.batch_size,
        "max_seq_len": args.max_seq_len, "device": "cpu", "overwrite": True}, "smart_scale")
    trainer = Trainer(config, PluginHost(config.plugins), progress=False)
    dataset = trainer.data.train[0]
    _, batch = next(iter(trainer.loader(trainer.sampler.schedule(0))))
    model, task = trainer.model, dataset.task
    out = {}
    for mode in ("eval", "train"):
        model.train(mode == "train")
        torch.manual_seed(1)
        logits = model(task.name, batch)
        mlm = float(F.cross_entropy(logits.float(), batch["labels"]))
        out[mode] = {"mlm_loss": mlm, "settings": {}}
        for name, params in MLM_SETTINGS.items():
            regularizer = SMART(trainer.registries, alpha=1.0, **params)
            torch.manual_seed(2)
            term = regularizer(model, task, batch, logits, None)
            out[mode]["settings"][name] = {"alpha10_term_over_mlm_loss": 10 * float(term) / mlm,
                                           "adv_divergence": float(term), **regularizer.log_values()}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-seq-len", type=int, default=64)
    parser.add_argument("--warm-steps", type=int, default=40)
    parser.add_argument("--num-threads", type=int, default=None)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "smart_scale_cpu.json"))
    args = parser.parse_args()
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    started = time.perf_counter()
    result = {"benchmark": "smart_scale", "settings": vars(args), "rte_minilm": measure_classification(args),
              "alum_mlm_minilm": measure_mlm(args, Path(tempfile.mkdtemp(prefix="smart-scale-")))}
    result["seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(result, indent=2)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
