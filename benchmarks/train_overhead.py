"""Training-step overhead of mtdnn against a bare PyTorch loop.

Both loops train the same encoder and head weights on the same batches of real RTE rows with
the same optimizer (AdamW), schedule, clipping and precision. mtdnn's step is exactly what its
trainer runs (the DataLoader reading the batch's rows from the feature store and the task type
collating them, forward through the multi-task model, loss, NaN check, backward, update); the
bare loop is hand-written and pads rows it holds in memory as Python lists. Steps alternate in blocks within one process and the
medians are compared. Prints JSON.

    python benchmarks/train_overhead.py                      # CPU, all-MiniLM-L6-v2
    python benchmarks/train_overhead.py --device cuda --precision bf16 --encoder bert-base-config
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "glue"


def bert_base_config_dir(tmp: Path) -> str:
    """A BERT-base architecture (random weights) with the packaged tokenizer: no download."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from mtdnn_core.model.encoder import packaged_minilm_path

    BertModel(BertConfig()).save_pretrained(tmp)
    AutoTokenizer.from_pretrained(packaged_minilm_path()).save_pretrained(tmp)
    return str(tmp)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", default="all-minilm-l6-v2")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10, help="steps per block")
    parser.add_argument("--rounds", type=int, default=4, help="blocks per loop, alternating")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", default=str(SHARED))
    parser.add_argument("--hf", action="store_true", help="also time the Hugging Face Trainer on the same rows")
    parser.add_argument("--peak-tflops", type=float, default=None, help="the device's peak (e.g. 989 for H100 bf16) for MFU")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import tempfile

    from mtdnn_core.config import TrainConfig
    from mtdnn_core.data.batching import move_to
    from mtdnn_core.plugins import PluginHost
    from mtdnn_core.training.trainer import Trainer

    tmp = Path(tempfile.mkdtemp())
    encoder = bert_base_config_dir(tmp / "bert-base") if args.encoder == "bert-base-config" else args.encoder
    n_batches = args.steps
    config = TrainConfig(
        tasks=["rte"], encoder=encoder, data_dir=args.data_dir, output_dir=str(tmp / "run"), plugins=["glue"],
        batch_size=args.batch_size, max_seq_len=args.seq_len, max_train_samples=args.batch_size * n_batches,
        max_eval_samples=1, device=args.device, precision=args.precision, lr=2e-5, grad_clip=1.0, epochs=1,
        task_overrides={"rte": {"enable_san": False}},
    )
    trainer = Trainer(config, PluginHost(["glue"]), progress=False)
    trainer.model.train()
    schedule = trainer.sampler.schedule(0)[:n_batches]
    device = trainer.device

    # the bare loop: the same modules (so memory layout cannot favour either side), its own
    # optimizer, hand-written padding, forward and update
    encoder_copy = trainer.model.encoder
    head = trainer.model.heads["rte"]
    dense, out, dropout = head.dense, head.out, head.dropout
    params = [*encoder_copy.parameters(), *dense.parameters(), *out.parameters()]
    decay = [p for n, p in [*encoder_copy.named_parameters(), *dense.named_parameters(), *out.named_parameters()]
             if p.ndim >= 2 and "LayerNorm" not in n]
    no_decay = [p for p in params if all(p is not q for q in decay)]
    bare_opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=2e-5)
    bare_sched = torch.optim.lr_scheduler.LambdaLR(bare_opt, lambda s: 1.0)
    store = trainer.data.train[0].store
    features = [{k: v.tolist() if hasattr(v, "tolist") else v for k, v in store[i].items()} for i in range(len(store))]
    pad = trainer.pad_id
    amp = (torch.autocast(device.type, dtype=torch.bfloat16 if args.precision == "bf16" else torch.float16)
           if args.precision != "fp32" else None)

    def bare_step(indices):
        rows = [features[i] for i in indices]
        width = max(len(r["input_ids"]) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        types = torch.zeros_like(ids)
        mask = torch.zeros_like(ids)
        for i, r in enumerate(rows):
            n = len(r["input_ids"])
            ids[i, :n] = torch.tensor(r["input_ids"])
            types[i, :n] = torch.tensor(r["token_type_ids"])
            mask[i, :n] = 1
        labels = torch.tensor([r["label"] for r in rows])
        ids, types, mask, labels = (t.to(device) for t in (ids, types, mask, labels))
        with amp if amp else contextlib.nullcontext():
            hidden = encoder_copy(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
            logits = out(torch.tanh(dense(dropout(hidden[:, 0]))))
            loss = F.cross_entropy(logits.float(), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        bare_opt.step()
        bare_opt.zero_grad(set_to_none=True)
        bare_sched.step()
        return loss

    def mtdnn_step(batch):
        loss = trainer.forward_loss(0, batch)
        trainer.backward(loss)
        trainer.update()
        return loss

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def block(step_fn):
        times = []
        if step_fn is mtdnn_step:  # the trainer's own path: loader (fetch + collate) and device copy
            batches = iter(trainer.loader(schedule))
            for _ in schedule:
                sync()
                start = time.perf_counter()
                _, batch = next(batches)
                step_fn(move_to(batch, device))
                sync()
                times.append(time.perf_counter() - start)
            return times
        for _, indices in schedule:
            sync()
            start = time.perf_counter()
            step_fn(indices)
            sync()
            times.append(time.perf_counter() - start)
        return times

    block(bare_step), block(mtdnn_step)  # warm-up
    measured = {"bare": [], "mtdnn": []}
    for round_ in range(args.rounds):  # alternate which loop goes first, so neither gains from order
        order = [("bare", bare_step), ("mtdnn", mtdnn_step)]
        for name, fn in order if round_ % 2 == 0 else order[::-1]:
            measured[name] += block(fn)
    med = {k: statistics.median(v) for k, v in measured.items()}
    tokens = sum(min(args.seq_len, max(len(features[i]["input_ids"]) for i in idx)) * len(idx) for _, idx in schedule) / len(schedule)
    n_params = sum(p.numel() for p in encoder_copy.parameters())
    result = {
        "benchmark": "train_overhead",
        "device": torch.cuda.get_device_name() if device.type == "cuda" else f"cpu ({args.threads} threads)",
        "encoder": args.encoder, "precision": args.precision, "batch_size": args.batch_size, "max_seq_len": args.seq_len,
        "steps_timed_each": len(measured["bare"]),
        "bare_step_ms_median": round(1000 * med["bare"], 2),
        "mtdnn_step_ms_median": round(1000 * med["mtdnn"], 2),
        "overhead_ratio": round(med["mtdnn"] / med["bare"], 4),
        "mtdnn_samples_per_s": round(args.batch_size / med["mtdnn"], 2),
        "bare_samples_per_s": round(args.batch_size / med["bare"], 2),
        "approx_train_tflops_mtdnn": round(6 * n_params * tokens / med["mtdnn"] / 1e12, 4),
    }
    if args.peak_tflops:
        result["mtdnn_mfu"] = round(result["approx_train_tflops_mtdnn"] / args.peak_tflops, 4)
    if args.hf:
        hf_step = time_hf_trainer(encoder, features, [idx for _, idx in schedule], args, tmp / "hf")
        result["hf_trainer_step_ms_median"] = round(1000 * hf_step, 2)
        result["hf_trainer_samples_per_s"] = round(args.batch_size / hf_step, 2)
        result["mtdnn_vs_hf_ratio"] = round(med["mtdnn"] / hf_step, 4)
    json.dump(result, sys.stdout, indent=2)
    print()


def time_hf_trainer(encoder: str, features: list[dict], batches: list[list[int]], args, out: Path) -> float:
    """Median step time of the Hugging Face Trainer on the same rows (steps bracketed by callbacks)."""
    from transformers import (AutoModelForSequenceClassification, DataCollatorWithPadding, Trainer, TrainerCallback,
                              TrainingArguments)

    from mtdnn_core.model.encoder import packaged_minilm_path

    path = packaged_minilm_path() if encoder == "all-minilm-l6-v2" else encoder
    rows = [{"input_ids": features[i]["input_ids"], "token_type_ids": features[i]["token_type_ids"],
             "attention_mask": [1] * len(features[i]["input_ids"]), "labels": features[i]["label"]}
            for batch in batches for i in batch]
    times, marks = [], {}

    class Clock(TrainerCallback):
        def on_step_begin(self, *a, **k):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            marks["start"] = time.perf_counter()

        def on_step_end(self, *a, **k):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            times.append(time.perf_counter() - marks["start"])

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2)
    targs = TrainingArguments(output_dir=str(out), per_device_train_batch_size=args.batch_size, learning_rate=2e-5,
                              max_steps=(args.rounds + 1) * len(batches), max_grad_norm=1.0, save_strategy="no",
                              report_to="none", disable_tqdm=True, logging_strategy="no", use_cpu=args.device == "cpu",
                              bf16=args.precision == "bf16", dataloader_num_workers=0, seed=1)
    Trainer(model=model, args=targs, train_dataset=rows * (args.rounds + 1), data_collator=DataCollatorWithPadding(tokenizer),
            callbacks=[Clock()]).train()
    return statistics.median(times[len(batches):])


if __name__ == "__main__":
    main()
