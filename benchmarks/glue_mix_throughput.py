"""Useful (non-padding) tokens per second on the real GLUE mix: mtdnn against the Hugging Face
Trainer, with its usual GLUE padding and as a user tuning it would run it.

mtdnn trains RTE, MRPC, STS-B, CoLA and SST-2 jointly, rows as they come (at most
``--max-seq-len`` tokens), with length bucketing (``--no-bucketing`` to turn it off) and its
defaults otherwise (fused AdamW, no per-step host reads; ``--compile``). The Hugging Face
Trainer trains one classifier on the same rows, once per ``--hf-variants`` entry: ``max_length``
pads to ``--max-seq-len`` (``run_glue.py``'s default ``pad_to_max_length``), ``longest`` pads each
batch to its longest row, ``grouped`` adds ``train_sampling_strategy="group_by_length"`` to that
(the strongest setup of the Trainer; the ratio is given against each). Both: the same
encoder, batch size and precision; a warm-up, then ``--steps`` timed from a synchronised start
to a synchronised end. Prints JSON.

    python benchmarks/glue_mix_throughput.py --device cuda --precision bf16 --encoder bert-base-config
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_overhead import SHARED, bert_base_config_dir  # noqa: E402

TASKS = ["rte", "mrpc", "stsb", "cola", "sst"]  # sst: SST-2


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_mtdnn(args, encoder: str, tmp: Path) -> tuple[dict, list[dict]]:
    from mtdnn_core.api import PluginHost, TrainConfig, Trainer, move_to

    config = TrainConfig(
        tasks=TASKS, encoder=encoder, data_dir=str(SHARED), output_dir=str(tmp / "run"), plugins=["glue"],
        batch_size=args.batch_size, max_seq_len=args.max_seq_len, max_train_samples=args.rows_per_task,
        max_eval_samples=1, device=args.device, precision=args.precision, lr=2e-5, epochs=1,
        length_bucketing=not args.no_bucketing, compile=args.compile, num_threads=args.threads,
        task_overrides={t: {"enable_san": False} for t in ("rte", "mrpc")},
    )
    trainer = Trainer(config, PluginHost(["glue"]), progress=False)
    trainer.model.train()
    device = trainer.device
    schedule = trainer.sampler.schedule(0)
    needed = args.warmup + args.steps
    if len(schedule) < needed:
        raise SystemExit(f"{len(schedule)} batches in an epoch, {needed} needed: raise --rows-per-task")
    batches = iter(trainer.loader(schedule[:needed]))

    def step():
        index, batch = next(batches)
        useful = int(batch["attention_mask"].sum())  # counted on the host copy: no device read
        batch = move_to(batch, device)
        loss = trainer.forward_loss(index, batch)
        trainer.backward(loss, trainer.data.train[index].task.name)
        trainer.update()
        return useful, batch["input_ids"].numel()

    for _ in range(args.warmup):
        step()
    sync(device)
    start = time.perf_counter()
    useful = padded = 0
    for _ in range(args.steps):
        u, p = step()
        useful, padded = useful + u, padded + p
    sync(device)
    seconds = time.perf_counter() - start
    rows = [{k: v.tolist() if hasattr(v, "tolist") else v for k, v in d.store[i].items()}
            for d in trainer.data.train for i in range(len(d.store))]
    return {"useful_tokens_per_s": round(useful / seconds, 1), "padding_share": round(1 - useful / padded, 4),
            "samples_per_s": round(args.steps * args.batch_size / seconds, 2), "seconds": round(seconds, 3),
            "bucketing": not args.no_bucketing, "compile": args.compile,
            "fused_adamw": bool(trainer.device_checks)}, rows


def time_hf(args, encoder: str, rows: list[dict], tmp: Path, variant: str) -> dict:
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
                              TrainerCallback, TrainingArguments)

    from mtdnn_core.api import packaged_minilm_path

    path = packaged_minilm_path() if encoder == "all-minilm-l6-v2" else encoder
    tokenizer = AutoTokenizer.from_pretrained(path)
    data = [{"input_ids": r["input_ids"], "token_type_ids": r["token_type_ids"], "attention_mask": [1] * len(r["input_ids"]),
             "labels": int(float(r["label"]) > 2.5) if isinstance(r["label"], float) else int(r["label"]) % 2}
            for r in rows]
    padding = {"padding": "max_length", "max_length": args.max_seq_len} if variant == "max_length" else {}
    sampling = {"train_sampling_strategy": "group_by_length"} if variant == "grouped" else {}
    marks, batches = {}, []  # batches: (useful, padded) tokens of each collated batch, in training order
    total = args.warmup + args.steps

    class Clock(TrainerCallback):
        def on_step_begin(self, targs, state, control, **k):
            if state.global_step == args.warmup:
                sync(torch.device(args.device))
                marks["start"] = time.perf_counter()

        def on_train_end(self, targs, state, control, **k):
            sync(torch.device(args.device))
            marks["end"] = time.perf_counter()

    collator = DataCollatorWithPadding(tokenizer, **padding)

    def counting(features):
        batch = collator(features)
        batches.append((int(batch["attention_mask"].sum()), batch["input_ids"].numel()))
        return batch

    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2)
    targs = TrainingArguments(output_dir=str(tmp / "hf"), per_device_train_batch_size=args.batch_size, learning_rate=2e-5,
                              max_steps=total, save_strategy="no", report_to="none", disable_tqdm=True,
                              logging_strategy="no", use_cpu=args.device == "cpu", bf16=args.precision == "bf16",
                              fp16=args.precision == "fp16", dataloader_num_workers=0, seed=1, **sampling)
    Trainer(model=model, args=targs, train_dataset=data, data_collator=counting, callbacks=[Clock()]).train()
    seconds = marks["end"] - marks["start"]
    # the timed steps' own batches (the loader may collate ahead; the order is kept): with
    # group_by_length the longest batch comes first, in the warm-up, and must not count
    timed = batches[args.warmup:total]
    useful, padded = sum(u for u, _ in timed), sum(p for _, p in timed)
    return {"useful_tokens_per_s": round(useful / seconds, 1), "padding_share": round(1 - useful / padded, 4),
            "samples_per_s": round(args.steps * args.batch_size / seconds, 2), "seconds": round(seconds, 3),
            "variant": variant}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", default="all-minilm-l6-v2", help="a name or directory, or bert-base-config")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-len", type=int, default=128)
    parser.add_argument("--rows-per-task", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--no-bucketing", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--hf-variants", default="max_length,grouped",
                        help="comma-separated: max_length, longest, grouped (longest + group_by_length)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    tmp = Path(tempfile.mkdtemp())
    encoder = bert_base_config_dir(tmp / "bert-base") if args.encoder == "bert-base-config" else args.encoder
    variants = [v for v in args.hf_variants.split(",") if v]
    unknown = set(variants) - {"max_length", "longest", "grouped"}
    if unknown:
        raise SystemExit(f"unknown --hf-variants {sorted(unknown)}: use max_length, longest or grouped")
    result = {"benchmark": "glue_mix_throughput", "tasks": TASKS, "encoder": args.encoder,
              "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else f"cpu ({torch.get_num_threads()} threads)",
              "precision": args.precision, "batch_size": args.batch_size, "max_seq_len": args.max_seq_len,
              "rows_per_task": args.rows_per_task, "steps_timed": args.steps, "hf_trainer": {}, "useful_tokens_ratio": {}}
    mtdnn, rows = time_mtdnn(args, encoder, tmp)
    result["mtdnn"] = mtdnn
    write(result, args.out)  # after each system, so that a run cut by a time limit keeps what it measured
    for variant in variants:
        hf = result["hf_trainer"][variant] = time_hf(args, encoder, rows, tmp, variant)
        result["useful_tokens_ratio"][variant] = round(mtdnn["useful_tokens_per_s"] / hf["useful_tokens_per_s"], 3)
        write(result, args.out)
    print(json.dumps(result, indent=2))


def write(result: dict, out: str | None) -> None:
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
