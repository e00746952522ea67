"""all-MiniLM-L6-v2 on CoNLL-2003 NER (dev = eng.testa / valid.txt): mtdnn against the Hugging
Face token-classification Trainer with the same settings, and the joint NER + RTE + STS-B run.
Prints JSON (``--out`` also writes it).

    python benchmarks/ner_real.py --epochs 1            # CPU

Settings for both: first sub-token labelled, max length 128, batch 32, AdamW lr 1e-4, weight
decay 0.01, 10% warm-up then linear decay, clipping 1.0, a linear per-token head. The packaged
encoder is uncased: its tokenizer lower-cases, so capitalisation is lost.
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

SHARED = real_data_dir()


def run_mtdnn(tasks, args, out, data_dirs):
    from mtdnn_core.api import PluginHost, TrainConfig, Trainer

    config = TrainConfig(tasks=tasks, encoder=args.encoder, task_data_dirs={t: data_dirs[t] for t in tasks}, output_dir=str(out),
                         plugins=["ner", "glue"], epochs=args.epochs, batch_size=32, eval_batch_size=128, max_seq_len=128,
                         lr=args.lr, warmup=0.1, seed=args.seed, max_train_samples=args.max_train_samples,
                         task_overrides={t: {"enable_san": False} for t in tasks if t != "ner"}, num_threads=args.threads,
                         eval_splits=["dev"])
    trainer = Trainer(config, PluginHost(["ner", "glue"]), progress=False)
    start = time.perf_counter()
    summary = trainer.train()
    return summary["history"][-1]["metrics"], time.perf_counter() - start


def run_hf(args, out):
    import numpy as np
    import torch
    from transformers import (AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification, Trainer,
                              TrainingArguments)

    from mtdnn_core.api import packaged_minilm_path
    from mtdnn_ner.entities import report
    from mtdnn_ner.formats import ConllColumn
    from mtdnn_ner.tasks import definitions

    task = definitions()["ner"]
    fmt = ConllColumn("CoNLL-NER", 3, True)
    path = packaged_minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(path)

    def encode(file, limit=None):
        examples = fmt.read(SHARED / "conll2003" / file, task)[:limit]
        enc = tokenizer([e.words for e in examples], is_split_into_words=True, truncation=True, max_length=128)
        rows = []
        for i, e in enumerate(examples):
            labels, previous = [], None
            for w in enc.word_ids(i):
                labels.append(e.label[w] if w is not None and w != previous else -100)
                previous = w
            rows.append({"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i],
                         "token_type_ids": enc["token_type_ids"][i], "labels": labels})
        return examples, rows

    _, train = encode("train.txt", args.max_train_samples)
    dev_examples, dev = encode("valid.txt")
    torch.manual_seed(args.seed)
    model = AutoModelForTokenClassification.from_pretrained(path, num_labels=task.n_class)
    updates = math.ceil(len(train) / 32) * args.epochs
    targs = TrainingArguments(output_dir=str(out), per_device_train_batch_size=32, per_device_eval_batch_size=128,
                              learning_rate=args.lr, weight_decay=0.01, warmup_steps=int(round(0.1 * updates)),
                              lr_scheduler_type="linear", max_grad_norm=1.0, num_train_epochs=args.epochs, seed=args.seed,
                              eval_strategy="no", save_strategy="no", report_to="none", disable_tqdm=True,
                              logging_strategy="no", use_cpu=True, dataloader_num_workers=0)
    trainer = Trainer(model=model, args=targs, train_dataset=train, data_collator=DataCollatorForTokenClassification(tokenizer))
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    out = trainer.predict(dev)
    best = np.argmax(out.predictions, -1)
    golds, preds = [], []
    for labels, pred in zip(out.label_ids, best):
        keep = labels != -100
        golds.append([task.labels[t] for t in labels[keep]])
        preds.append([task.labels[t] for t in pred[keep]])
    # sentences truncated at 128 tokens lose their tail words here (none in CoNLL dev at this length)
    return {"seqeval_f1": report(golds, preds)["overall"]["f1"]}, elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", default="all-minilm-l6-v2")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-train-samples", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-joint", action="store_true")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp())
    dirs = {"ner": str(SHARED / "conll2003"), "rte": str(SHARED / "glue"), "stsb": str(SHARED / "glue")}
    results = {"benchmark": "ner_real", "settings": vars(args), "runs": []}
    metrics, seconds = run_mtdnn(["ner"], args, work / "ner", dirs)
    results["runs"].append({"system": "mtdnn", "tasks": "ner", "dev": metrics, "train_s": round(seconds, 1)})
    print(json.dumps(results["runs"][-1]), file=sys.stderr)
    metrics, seconds = run_hf(args, work / "hf")
    results["runs"].append({"system": "hf trainer", "tasks": "ner", "dev": {"ner_dev": metrics}, "train_s": round(seconds, 1)})
    print(json.dumps(results["runs"][-1]), file=sys.stderr)
    if not args.skip_joint:
        metrics, seconds = run_mtdnn(["ner", "rte", "stsb"], args, work / "joint", dirs)
        results["runs"].append({"system": "mtdnn joint", "tasks": "ner,rte,stsb", "dev": metrics, "train_s": round(seconds, 1)})
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
