"""all-MiniLM-L6-v2 on real SQuAD 2.0 questions: mtdnn's squadv2 task against Hugging Face's
``AutoModelForQuestionAnswering`` + ``Trainer`` with the same settings and the same
post-processing (n-best decoding, null odds, official EM/F1 with HasAns/NoAns). Prints JSON
(``--out`` also writes it).

    python benchmarks/squad_real.py --epochs 2 --threads 2                         # train sample -> dev sample
    python benchmarks/squad_real.py --systems mtdnn,hf,joint --out results.json    # and SQuAD + RTE in one run
    python benchmarks/squad_real.py --split folds --folds 0,1,2,3,4                # the dev sample's article rotation

Data (``--split real``, the default): train on ``shared/data/squad/train-v2.0-first10.json``
(the first 10 articles of the official 2.0 train set, 4719 questions) and evaluate on
``dev-v2.0-first5.json`` (the first 5 articles of the official dev set, 1407 questions).
``--split folds`` splits the dev sample by article instead (train on four, evaluate on the fifth,
``--folds`` names the held-out ones). ``joint`` is mtdnn training ``squadv2`` and GLUE's ``rte``
together (the same SQuAD settings; RTE from ``shared/data/glue``), scored on both dev sets.
The "1.1 view" is ``forced_HasAns_*``: the answerable questions only, each answered.

Same settings for both: max length 256, stride 64 (tokens shared by windows), questions cut at
64 tokens, batch 16, AdamW lr 1e-4, weight decay 0.01 (not on biases/LayerNorm), 10% linear
warm-up then linear decay, gradient clipping 1.0, a per-token Linear(H, 2) head without dropout
(as Hugging Face's), n-best 20, answers up to 30 tokens, null threshold 0.

Besides the official numbers at null threshold 0, each run reports how well the spans were
learnt: ``forced_HasAns_*`` scores the best span of every answerable question (as if the model
had to answer), and ``two_way_best_*`` the official threshold search over those answered-everywhere
predictions (so the threshold can move both ways).
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

from mtdnn_core.testing import real_data_dir

SHARED = real_data_dir()
SAMPLE = SHARED / "squad" / "dev-v2.0-first5.json"
TRAIN = SHARED / "squad" / "train-v2.0-first10.json"
MAX_LEN, STRIDE, MAX_QUERY = 256, 64, 64


def split_articles(held_out: int, folder: Path, paragraphs: int | None = None) -> Path:
    data = json.loads(SAMPLE.read_text(encoding="utf-8"))
    articles = [{**a, "paragraphs": a["paragraphs"][:paragraphs]} for a in data["data"]]
    train = [a for i, a in enumerate(articles) if i != held_out]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train-v2.0.json").write_text(json.dumps({"version": data["version"], "data": train}), encoding="utf-8")
    (folder / "dev-v2.0.json").write_text(json.dumps({"version": data["version"], "data": [articles[held_out]]}),
                                          encoding="utf-8")
    return folder


def real_split(folder: Path, questions: int | None = None) -> Path:
    """The train sample and the dev sample side by side (``questions``: only the first N of the
    train sample, for smoke runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = json.loads(TRAIN.read_text(encoding="utf-8"))
    if questions is not None:
        left, articles = questions, []
        for article in data["data"]:
            paragraphs = []
            for paragraph in article["paragraphs"]:
                if left > 0:
                    paragraphs.append({**paragraph, "qas": paragraph["qas"][:left]})
                    left -= len(paragraphs[-1]["qas"])
            if paragraphs:
                articles.append({**article, "paragraphs": paragraphs})
        data = {**data, "data": articles}
    (folder / "train-v2.0.json").write_text(json.dumps(data), encoding="utf-8")
    (folder / "dev-v2.0.json").write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def run_joint(data_dir: Path, args, out_dir: Path):
    return run_mtdnn(data_dir, args, out_dir, joint=True)


def run_mtdnn(data_dir: Path, args, out_dir: Path, joint: bool = False):
    from mtdnn_core.api import PluginHost, TrainConfig, Trainer

    overrides = {"squadv2": {"max_seq_len": MAX_LEN,
                             "head_config": {"doc_stride": STRIDE, "max_query_length": MAX_QUERY, "dropout": 0.0}}}
    tasks, plugins = (["squadv2", "rte"], ["squad", "glue"]) if joint else (["squadv2"], ["squad"])
    dirs = {"data_dir": str(data_dir)}
    if joint:  # RTE's train and dev files only: its 3000-row test set would be scored at every evaluation
        glue = out_dir.parent / "glue_rte" / "RTE"
        glue.mkdir(parents=True, exist_ok=True)
        for split in ("train", "dev"):
            shutil.copyfile(SHARED / "glue" / "RTE" / f"{split}.tsv", glue / f"{split}.tsv")
        dirs = {"data_dir": str(glue.parent), "task_data_dirs": {"squadv2": str(data_dir)}}
    config = TrainConfig(tasks=tasks, encoder=args.encoder, **dirs, output_dir=str(out_dir),
                         plugins=plugins, epochs=args.epochs, batch_size=args.batch_size, eval_batch_size=64, lr=args.lr,
                         weight_decay=0.01, warmup=0.1, grad_clip=1.0, seed=args.seed, device=args.device,
                         precision=args.precision,
                         task_overrides=overrides, num_threads=args.threads)
    trainer = Trainer(config, PluginHost(plugins), progress=False)
    start = time.perf_counter()
    summary = trainer.train()
    elapsed = time.perf_counter() - start
    metrics = summary["history"][-1]["metrics"]
    report = metrics["squadv2_dev"]["squad_v2_report"]
    if joint:
        report = {**report, "rte_dev_accuracy": metrics["rte_dev"]["accuracy"]}
    prefix = out_dir / "scores" / f"squadv2_dev.epoch{args.epochs - 1}"
    nbest = json.loads(Path(f"{prefix}.nbest_predictions.json").read_text())
    null_odds = json.loads(Path(f"{prefix}.null_odds.json").read_text())
    return {**report, **span_quality(data_dir / "dev-v2.0.json", nbest, null_odds)}, elapsed, len(trainer.data.train[0])


def span_quality(dev_file: Path, nbest: dict, null_odds: dict) -> dict:
    """Official numbers of the best span of every question (threshold +inf), and the threshold
    search over them."""
    from mtdnn_squad.evaluation import evaluate_v2
    from mtdnn_squad.outputs import apply_threshold
    from mtdnn_squad.reader import read_squad

    questions = read_squad(dev_file)
    forced = apply_threshold(nbest, null_odds, float("inf"))
    result = evaluate_v2([[a.text for a in q.answers] for q in questions], [forced[q.uid] for q in questions],
                         [null_odds[q.uid] for q in questions])
    return {"forced_HasAns_exact": result["HasAns_exact"], "forced_HasAns_f1": result["HasAns_f1"],
            "two_way_best_exact": result["best_exact"], "two_way_best_f1": result["best_f1"],
            "two_way_best_f1_thresh": result["best_f1_thresh"]}


def hf_train_features(tokenizer, examples):
    """Hugging Face's run_qa preprocessing: windows by stride, start/end token of the answer
    when it lies wholly in the window, else the CLS position."""
    questions = [e.question.lstrip() for e in examples]
    enc = tokenizer(questions, [e.context for e in examples], truncation="only_second", max_length=MAX_LEN, stride=STRIDE,
                    return_overflowing_tokens=True, return_offsets_mapping=True)
    rows = []
    for i, offsets in enumerate(enc["offset_mapping"]):
        ids = enc["input_ids"][i]
        cls = ids.index(tokenizer.cls_token_id)
        sequence = enc.sequence_ids(i)
        example = examples[enc["overflow_to_sample_mapping"][i]]
        start_pos = end_pos = cls
        if example.answers:
            start_char = example.answers[0].start
            end_char = start_char + len(example.answers[0].text)
            first = sequence.index(1)
            last = len(sequence) - 1 - sequence[::-1].index(1)
            if offsets[first][0] <= start_char and offsets[last][1] >= end_char:
                while first < len(offsets) and offsets[first][0] <= start_char:
                    first += 1
                start_pos = first - 1
                while offsets[last][1] >= end_char:
                    last -= 1
                end_pos = last + 1
        rows.append({"input_ids": ids, "token_type_ids": enc["token_type_ids"][i], "attention_mask": enc["attention_mask"][i],
                     "start_positions": start_pos, "end_positions": end_pos})
    return rows


def run_hf(data_dir: Path, args, out_dir: Path):
    import numpy as np
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, DataCollatorWithPadding, Trainer, TrainingArguments

    from mtdnn_core.api import packaged_minilm_path
    from mtdnn_squad.decode import SpanDecoder
    from mtdnn_squad.evaluation import evaluate_v2
    from mtdnn_squad.reader import read_squad
    from mtdnn_squad.settings import SpanSettings
    from mtdnn_squad.windows import encode_windows

    path = packaged_minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    train = hf_train_features(tokenizer, read_squad(data_dir / "train-v2.0.json"))
    dev_examples = read_squad(data_dir / "dev-v2.0.json")
    settings = SpanSettings(doc_stride=STRIDE, max_query_length=MAX_QUERY)
    dev_windows = encode_windows(dev_examples, tokenizer, MAX_LEN, settings)  # offsets for the shared post-processing
    dev = [{k: w[k] for k in ("input_ids", "token_type_ids")} | {"attention_mask": [1] * len(w["input_ids"])}
           for w in dev_windows]
    torch.manual_seed(args.seed)
    model = AutoModelForQuestionAnswering.from_pretrained(path)
    updates = math.ceil(len(train) / args.batch_size) * args.epochs
    targs = TrainingArguments(output_dir=str(out_dir), per_device_train_batch_size=args.batch_size,
                              per_device_eval_batch_size=64, learning_rate=args.lr, weight_decay=0.01,
                              warmup_steps=int(round(0.1 * updates)), lr_scheduler_type="linear", max_grad_norm=1.0,
                              num_train_epochs=args.epochs, seed=args.seed, eval_strategy="no", save_strategy="no",
                              report_to="none", disable_tqdm=True, logging_strategy="no", use_cpu=args.device == "cpu",
                              bf16=args.precision == "bf16", fp16=args.precision == "fp16",
                              dataloader_num_workers=0)
    collator = DataCollatorWithPadding(tokenizer)
    trainer = Trainer(model=model, args=targs, train_dataset=train, data_collator=collator)
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    start_logits, end_logits = trainer.predict(dev).predictions
    decoder = SpanDecoder(settings, allows_no_answer=True)
    for i, window in enumerate(dev_windows):
        n = len(window["input_ids"])
        decoder.add_window(window, np.asarray(start_logits[i, :n]), np.asarray(end_logits[i, :n]))
    out = decoder.result()
    report = evaluate_v2(out["golds"], out["predictions"], out["scores"])
    return {**report, **span_quality(data_dir / "dev-v2.0.json", out["nbest"], out["null_odds"])}, elapsed, len(train)


KEYS = ("exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1", "best_exact", "best_f1", "best_f1_thresh",
        "forced_HasAns_exact", "forced_HasAns_f1", "two_way_best_exact", "two_way_best_f1", "two_way_best_f1_thresh",
        "total", "HasAns_total", "NoAns_total", "rte_dev_accuracy")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", default="all-minilm-l6-v2")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--split", choices=["real", "folds"], default="real",
                        help="real: train sample -> dev sample; folds: the dev sample's articles in rotation")
    parser.add_argument("--folds", default="4", help="with --split folds: held-out article indexes (0-4), comma-separated")
    parser.add_argument("--max-train-questions", type=int, default=None, help="with --split real: the first N (smoke runs)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (both systems)")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"],
                        help="autocast for both systems (bf16/fp16 on a GPU)")
    parser.add_argument("--paragraphs", type=int, default=None, help="only the first N paragraphs of each article (smoke runs)")
    parser.add_argument("--systems", default="mtdnn,hf", help="any of mtdnn, hf, joint (mtdnn with squadv2 + rte)")
    parser.add_argument("--out", default=None, help="write the JSON here (runs of an earlier file with the same settings are kept)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp())
    settings = {k: v for k, v in vars(args).items() if k not in ("folds", "systems", "out")}
    data = (f"train on {TRAIN.name}, evaluate on {SAMPLE.name}" if args.split == "real"
            else f"{SAMPLE.name}: train on 4 articles, evaluate on the held-out one")
    results = {"benchmark": "squad_real", "settings": {**settings, "max_len": MAX_LEN, "doc_stride": STRIDE,
                                                       "max_query_length": MAX_QUERY},
               "data": data, "runs": []}
    if args.out and Path(args.out).is_file():
        earlier = json.loads(Path(args.out).read_text())
        if earlier.get("settings") == results["settings"]:
            results["runs"] = earlier["runs"]
    systems = {"mtdnn": ("mtdnn", run_mtdnn), "hf": ("hf trainer", run_hf), "joint": ("mtdnn squadv2+rte", run_joint)}
    folds = [int(f) for f in args.folds.split(",") if f] if args.split == "folds" else [None]
    for fold in folds:
        if fold is None:
            data_dir, title = real_split(work / "real", args.max_train_questions), SAMPLE.name
        else:
            data_dir = split_articles(fold, work / f"fold{fold}", args.paragraphs)
            title = json.loads((data_dir / "dev-v2.0.json").read_text())["data"][0]["title"]
        for system, runner in (systems[name] for name in args.systems.split(",")):
            report, seconds, windows = runner(data_dir, args, work / f"{system.replace(' ', '_').replace('+', '_')}{fold}")
            run = {"system": system, "held_out": title, "train_windows": windows, "train_s": round(seconds, 1),
                   "dev": {k: round(report[k], 2) if isinstance(report[k], float) else report[k] for k in KEYS if k in report}}
            results["runs"] = [r for r in results["runs"] if (r["system"], r["held_out"]) != (system, title)] + [run]
            print(json.dumps(run), file=sys.stderr)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
