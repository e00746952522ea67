"""Training-step speed of mtdnn against a bare PyTorch loop and the Hugging Face Trainer.

Both loops train the same encoder and head weights on the same batches of real RTE rows with
the same optimizer (AdamW), schedule, clipping and precision. mtdnn's step is exactly what its
trainer runs (the DataLoader reading the batch's rows from the feature store and the task type
collating them, forward through the multi-task model, loss, NaN check, backward, update); the
bare loop is hand-written and pads rows it holds in memory as Python lists. Blocks of steps
alternate within one process; a block is timed from a synchronised start to a synchronised end
(so work the host queues ahead counts as it does in training) and the medians per step are
compared. With ``--batch-sizes`` and ``--variants`` it sweeps batch sizes and mtdnn's options
(``eager``: defaults; ``compile``: ``--compile``; ``unfused``: AdamW without the fused kernel,
which also brings back the per-step host checks); MFU against ``--peak-tflops``. Prints JSON.

    python benchmarks/train_overhead.py                      # CPU, all-MiniLM-L6-v2
    python benchmarks/train_overhead.py --device cuda --precision bf16 --encoder bert-base-config \
        --batch-sizes 32,64,128,256 --variants eager,compile,unfused --hf --peak-tflops 989
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from mtdnn_core.testing import real_data_dir

SHARED = Path(os.environ.get("MTDNN_GLUE_DIR") or real_data_dir() / "glue")


def bert_base_config_dir(tmp: Path) -> str:
    """A BERT-base architecture (random weights) with the packaged tokenizer: no download."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from mtdnn_core.api import packaged_minilm_path

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
    parser.add_argument("--batch-sizes", default=None, help="comma-separated sweep (overrides --batch-size)")
    parser.add_argument("--variants", default="eager", help="comma-separated: eager, compile, unfused")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import tempfile

    tmp = Path(tempfile.mkdtemp())
    encoder = bert_base_config_dir(tmp / "bert-base") if args.encoder == "bert-base-config" else args.encoder
    sizes = [int(b) for b in args.batch_sizes.split(",")] if args.batch_sizes else [args.batch_size]
    results = []
    for batch_size in sizes:
        for variant in [v.strip() for v in args.variants.split(",") if v.strip()]:
            try:
                results.append(measure(args, encoder, batch_size, variant, tmp / f"{batch_size}-{variant}"))
            except torch.OutOfMemoryError as exc:
                results.append({"batch_size": batch_size, "variant": variant, "error": f"out of memory: {exc}"[:200]})
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    best = max((r for r in results if "mtdnn_samples_per_s" in r), key=lambda r: r["mtdnn_samples_per_s"], default=None)
    summary = {"benchmark": "train_overhead", "encoder": args.encoder, "precision": args.precision,
               "device": results[0].get("device") if results else None, "runs": results,
               "best": None if best is None else {k: best.get(k) for k in (
                   "batch_size", "variant", "mtdnn_samples_per_s", "mtdnn_mfu", "mtdnn_vs_hf_speedup")}}
    text = json.dumps(results[0] if len(results) == 1 else summary, indent=2)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")


def measure(args, encoder: str, batch_size: int, variant: str, tmp: Path) -> dict:
    """One batch size and one mtdnn variant: bare loop, mtdnn (and the HF Trainer) side by side."""
    if variant not in ("eager", "compile", "unfused"):
        raise SystemExit(f"--variants: unknown '{variant}' (eager, compile, unfused)")

    from mtdnn_core.api import PluginHost, TrainConfig, Trainer, move_to

    n_batches = args.steps
    config = TrainConfig(
        tasks=["rte"], encoder=encoder, data_dir=args.data_dir, output_dir=str(tmp / "run"), plugins=["glue"],
        batch_size=batch_size, max_seq_len=args.seq_len, max_train_samples=batch_size * n_batches,
        max_eval_samples=1, device=args.device, precision=args.precision, lr=2e-5, grad_clip=1.0, epochs=1,
        task_overrides={"rte": {"enable_san": False}}, compile=variant == "compile",
        optimizer_config={"fused": False} if variant == "unfused" else {},
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
    fused = bool(trainer.optimizer.defaults.get("fused"))  # the same AdamW kernel as mtdnn's (fused unless "unfused")
    bare_opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                 lr=2e-5, fused=fused)
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
        trainer.backward(loss, "rte")
        trainer.update()
        return loss

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    warmups = 2 if variant == "compile" else 1
    # the trainer's own path: one loader (fetch + collate, worker processes on CUDA) for all blocks, as
    # one loader serves a whole epoch in training; a loader per 10-step block would time its workers' start
    batches = iter(trainer.loader(schedule * (warmups + args.rounds)))

    def block(step_fn):
        """Seconds per step over the block (synchronised only at its start and end)."""
        sync()
        start = time.perf_counter()
        if step_fn is mtdnn_step:
            for _ in schedule:
                step_fn(move_to(next(batches)[1], device))
        else:
            for _, indices in schedule:
                step_fn(indices)
        sync()
        return [(time.perf_counter() - start) / len(schedule)]

    for _ in range(warmups):  # warm-up (compiling: the first and the second length)
        block(bare_step), block(mtdnn_step)
    measured = {"bare": [], "mtdnn": []}
    for round_ in range(args.rounds):  # alternate which loop goes first, so neither gains from order
        order = [("bare", bare_step), ("mtdnn", mtdnn_step)]
        for name, fn in order if round_ % 2 == 0 else order[::-1]:
            measured[name] += block(fn)
    med = {k: statistics.median(v) for k, v in measured.items()}
    tokens = sum(min(args.seq_len, max(len(features[i]["input_ids"]) for i in idx)) * len(idx) for _, idx in schedule) / len(schedule)
    useful = sum(len(features[i]["input_ids"]) for _, idx in schedule for i in idx) / len(schedule)
    # FLOPs per token ~ 6 x the parameters a token's computation touches: the embedding tables are lookups
    n_params = sum(p.numel() for n, p in encoder_copy.named_parameters() if "embeddings" not in n)
    result = {
        "benchmark": "train_overhead", "variant": variant,
        "device": torch.cuda.get_device_name() if device.type == "cuda" else f"cpu ({args.threads} threads)",
        "encoder": args.encoder, "precision": args.precision, "batch_size": batch_size, "max_seq_len": args.seq_len,
        "steps_per_block": len(schedule), "blocks_timed_each": len(measured["bare"]),
        "fused_adamw": fused, "padded_tokens_per_step": round(tokens, 1), "useful_tokens_per_step": round(useful, 1),
        "bare_step_ms_median": round(1000 * med["bare"], 2),
        "mtdnn_step_ms_median": round(1000 * med["mtdnn"], 2),
        "overhead_ratio": round(med["mtdnn"] / med["bare"], 4),
        "mtdnn_samples_per_s": round(batch_size / med["mtdnn"], 2),
        "bare_samples_per_s": round(batch_size / med["bare"], 2),
        "approx_train_tflops_mtdnn": round(6 * n_params * tokens / med["mtdnn"] / 1e12, 4),
    }
    if args.peak_tflops:
        result["mtdnn_mfu"] = round(result["approx_train_tflops_mtdnn"] / args.peak_tflops, 4)
    if args.hf and variant == args.variants.split(",")[0].strip():  # once per batch size
        hf_step = time_hf_trainer(encoder, features, [idx for _, idx in schedule], args, batch_size, tmp / "hf")
        result["hf_trainer_step_ms_median"] = round(1000 * hf_step, 2)
        result["hf_trainer_samples_per_s"] = round(batch_size / hf_step, 2)
        result["mtdnn_vs_hf_speedup"] = round(hf_step / med["mtdnn"], 4)
    return result


def time_hf_trainer(encoder: str, features: list[dict], batches: list[list[int]], args, batch_size: int, out: Path) -> float:
    """Seconds per step of the Hugging Face Trainer on the same rows (after a warm-up round)."""
    from transformers import (AutoModelForSequenceClassification, DataCollatorWithPadding, Trainer, TrainerCallback,
                              TrainingArguments)

    from mtdnn_core.api import packaged_minilm_path

    path = packaged_minilm_path() if encoder == "all-minilm-l6-v2" else encoder
    rows = [{"input_ids": features[i]["input_ids"], "token_type_ids": features[i]["token_type_ids"],
             "attention_mask": [1] * len(features[i]["input_ids"]), "labels": features[i]["label"]}
            for batch in batches for i in batch]
    marks = {}
    warm = len(batches)  # the first round warms up; the rest is timed from a synchronised start to the end

    def sync():
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    class Clock(TrainerCallback):
        def on_step_begin(self, targs, state, control, **k):
            if state.global_step == warm:
                sync()
                marks["start"] = time.perf_counter()

        def on_train_end(self, targs, state, control, **k):
            sync()
            marks["end"], marks["steps"] = time.perf_counter(), state.global_step - warm

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2)
    targs = TrainingArguments(output_dir=str(out), per_device_train_batch_size=batch_size, learning_rate=2e-5,
                              max_steps=(args.rounds + 1) * len(batches), max_grad_norm=1.0, save_strategy="no",
                              report_to="none", disable_tqdm=True, logging_strategy="no", use_cpu=args.device == "cpu",
                              bf16=args.precision == "bf16", dataloader_num_workers=0, seed=1)
    Trainer(model=model, args=targs, train_dataset=rows * (args.rounds + 1), data_collator=DataCollatorWithPadding(tokenizer),
            callbacks=[Clock()]).train()
    return (marks["end"] - marks["start"]) / marks["steps"]


if __name__ == "__main__":
    main()
