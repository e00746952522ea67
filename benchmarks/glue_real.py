"""all-MiniLM-L6-v2 on real GLUE data (RTE, MRPC, STS-B): mtdnn single-task, mtdnn multi-task,
and the Hugging Face Trainer with the same settings, dev metrics side by side. Prints JSON and
writes it to benchmarks/results/ (``--out``).

    python benchmarks/glue_real.py --epochs 1                       # CPU
    python benchmarks/glue_real.py --epochs 5 --seeds 1,2,3 --device cuda --precision bf16

Same settings for all: max length 128, batch 32, AdamW lr 1e-4, weight decay 0.01 (not on
biases/LayerNorm), 10% linear warm-up then linear decay, gradient clipping 1.0, first-token
pooler head with tanh (mtdnn's SAN is switched off so the heads match Hugging Face's).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

from mtdnn_core.testing import real_data_dir

SHARED = real_data_dir() / "glue"
TASKS = ("rte", "mrpc", "stsb")
HF_NAMES = {"rte": "RTE", "mrpc": "MRPC", "stsb": "STS-B"}


def run_mtdnn(tasks, args, seed, out_dir):
    from mtdnn_core.api import PluginHost, TrainConfig, Trainer

    config = TrainConfig(
        tasks=list(tasks), encoder=args.encoder, data_dir=args.data_dir, output_dir=str(out_dir), plugins=["glue"],
        epochs=args.epochs, batch_size=args.batch_size, eval_batch_size=128, max_seq_len=128, lr=args.lr,
        weight_decay=0.01, warmup=0.1, grad_clip=1.0, seed=seed, device=args.device, precision=args.precision,
        max_train_samples=args.max_train_samples, task_overrides={t: {"enable_san": False} for t in tasks},
        num_threads=args.threads, eval_splits=["dev"],
    )
    trainer = Trainer(config, PluginHost(["glue"]), progress=False)
    start = time.perf_counter()
    summary = trainer.train()
    last = summary["history"][-1]["metrics"]
    return {t: last[f"{t}_dev"] for t in tasks}, time.perf_counter() - start


def run_hf(task, args, seed, out_dir):
    """Hugging Face Trainer fine-tuning of the same encoder on one task."""
    import numpy as np
    import torch
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
                              TrainingArguments)

    from mtdnn_core.api import BUILTIN_METRICS, PluginHost, PremiseAndOneHypothesis, packaged_minilm_path
    from mtdnn_glue.convert import convert_task

    definition = PluginHost(["glue"]).registries.tasks.get(task).factory.definition
    files = convert_task(task, Path(args.data_dir), Path(out_dir) / "canonical")
    path = packaged_minilm_path() if args.encoder == "all-minilm-l6-v2" else args.encoder
    tokenizer = AutoTokenizer.from_pretrained(path)
    reader = PremiseAndOneHypothesis()

    def dataset(split, limit=None):
        rows = reader.read(files[split], definition)[:limit]
        enc = tokenizer([r.texts[0] for r in rows], [r.texts[1] for r in rows], truncation=True, max_length=128)
        dtype = torch.float if definition.task_type == "Regression" else torch.long
        return [{"input_ids": enc["input_ids"][i], "token_type_ids": enc["token_type_ids"][i],
                 "attention_mask": enc["attention_mask"][i], "labels": torch.tensor(r.label, dtype=dtype)}
                for i, r in enumerate(rows)]

    train, dev = dataset("train", args.max_train_samples), dataset("dev")
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=definition.n_class)
    updates = math.ceil(len(train) / args.batch_size) * args.epochs
    targs = TrainingArguments(
        output_dir=str(out_dir), per_device_train_batch_size=args.batch_size, per_device_eval_batch_size=128,
        learning_rate=args.lr, weight_decay=0.01, warmup_steps=int(round(0.1 * updates)), lr_scheduler_type="linear",
        max_grad_norm=1.0, num_train_epochs=args.epochs, seed=seed, data_seed=seed, eval_strategy="no",
        save_strategy="no", report_to="none", disable_tqdm=True, logging_strategy="no",
        use_cpu=args.device == "cpu", bf16=args.precision == "bf16", dataloader_num_workers=0,
    )
    trainer = Trainer(model=model, args=targs, train_dataset=train, data_collator=DataCollatorWithPadding(tokenizer))
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    out = trainer.predict(dev)
    logits, golds = out.predictions, out.label_ids
    if definition.task_type == "Regression":
        preds, scores = logits.reshape(-1), logits.reshape(-1)
    else:
        scores = np.exp(logits - logits.max(1, keepdims=True))
        scores /= scores.sum(1, keepdims=True)
        preds = scores.argmax(1)
    metrics = {}
    for name in definition.metric_meta:
        metric = dict((alias, m) for key, (m, aliases) in BUILTIN_METRICS.items() for alias in [key, *aliases])[name]
        metrics[metric.name] = metric(golds, preds, scores)
    return metrics, elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", default="all-minilm-l6-v2")
    parser.add_argument("--data-dir", default=str(SHARED))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-train-samples", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-hf", action="store_true")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--skip-multi", action="store_true")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp())
    results = {"benchmark": "glue_real", "settings": vars(args), "runs": []}
    tasks = [t for t in args.tasks.split(",") if t]
    for seed in [int(s) for s in args.seeds.split(",")]:
        for task in tasks:
            metrics, seconds = run_mtdnn([task], args, seed, work / f"single-{task}-{seed}")
            results["runs"].append({"system": "mtdnn single-task", "seed": seed, "task": task, "dev": metrics[task], "train_s": round(seconds, 1)})
            print(json.dumps(results["runs"][-1]), file=sys.stderr)
            if not args.skip_hf:
                metrics, seconds = run_hf(task, args, seed, work / f"hf-{task}-{seed}")
                results["runs"].append({"system": "hf trainer", "seed": seed, "task": task, "dev": metrics, "train_s": round(seconds, 1)})
                print(json.dumps(results["runs"][-1]), file=sys.stderr)
        if args.skip_multi or len(tasks) < 2:
            continue
        metrics, seconds = run_mtdnn(tasks, args, seed, work / f"multi-{seed}")
        for task in tasks:
            results["runs"].append({"system": "mtdnn multi-task", "seed": seed, "task": task, "dev": metrics[task], "train_s": round(seconds, 1)})
        print(json.dumps(results["runs"][-len(tasks):]), file=sys.stderr)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
