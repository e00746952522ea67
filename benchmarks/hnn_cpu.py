"""HNN on CPU: WSC273, PDP60 and WNLI dev accuracy of the LM scorer, the similarity scorer and
their combination, (1) with no fine-tuning, on all-MiniLM-L6-v2 given a masked-LM head by
``mtdnn alum pretrain`` on ../shared/data/mlm, and (2) after training on DPRD + WNLI train.
Majority-class baselines beside every number. Prints JSON (and writes it with ``--out``).

    nice -n 10 .venv/bin/python benchmarks/hnn_cpu.py --work /tmp/hnnbench --out benchmarks/results/hnn_cpu.json

Every stage is the command line a user runs, one thread each; the JSON records each command
and its CPU seconds. Finished stages are recorded in WORK/commands.json, so a rerun with the
same settings only collects the results.
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

from mtdnn_core.testing import real_data_dir

ROOT = Path(__file__).resolve().parents[1]
DATA = real_data_dir()
MTDNN = str(Path(sys.executable).with_name("mtdnn"))
PAPER = {"source": "HNN, arXiv 1907.11983, BERT-large", "wsc273": 75.1, "pdp60": 90.0, "wnli_test_ensemble": 89.0}
KEYS = {"hybrid_accuracy": "hybrid", "lm_accuracy": "lm", "sim_accuracy": "sim", "majority_baseline": "majority"}


def run(args: list[str], log: list[dict], done: Path) -> None:
    """Run one command unless an earlier run of the script finished it (its record is in
    ``done``); record it with its CPU and wall seconds."""
    command = "mtdnn " + " ".join(map(str, args))
    finished = json.loads(done.read_text()) if done.is_file() else []
    previous = next((c for c in finished if c["command"] == command), None)
    if previous is not None:
        log.append(previous)
        return
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([MTDNN, *map(str, args)], cwd=ROOT, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"[{cpu:7.1f} s cpu] mtdnn {' '.join(map(str, args[:3]))} ...", file=sys.stderr)
    if result.returncode:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"failed: {command}")
    log.append({"command": command, "cpu_s": round(cpu, 1), "wall_s": round(time.perf_counter() - started, 1)})
    done.write_text(json.dumps([*finished, log[-1]], indent=1))


def table(scores_dir: Path, tag: str) -> dict:
    """``{dataset: {hybrid, lm, sim, majority, n, chance_2se}}`` from a directory of score files;
    ``chance_2se`` is two standard errors of a coin-flip accuracy on ``n`` items, in points."""
    out = {}
    for path in sorted(scores_dir.glob(f"*.{tag}.json")):
        data = json.loads(path.read_text())
        if data.get("metrics") and "hybrid_accuracy" in data["metrics"]:
            n = len(data["uids"])
            out[data["dataset"]] = {short: round(data["metrics"][key], 2) for key, short in KEYS.items()}
            out[data["dataset"]].update(n=n, chance_2se=round(200 * math.sqrt(0.25 / n), 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--alum-steps", type=int, default=120)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-train-samples", type=int, default=None, help="per task (a quick probe)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work, hnn, log = args.work, DATA / "hnn", []
    work.mkdir(parents=True, exist_ok=True)
    done = work / "commands.json"  # finished stages: a rerun collects them instead of repeating them
    encoder = work / "minilm-mlm"
    one = ["--num-threads", 1]

    run(["alum", "pretrain", "--encoder", "all-minilm-l6-v2", "--corpus", DATA / "mlm" / "mlm_train.json",
         "--output", encoder, "--steps", args.alum_steps, "--batch-size", 16, "--max-seq-len", 128,
         "--adv-alpha", 0, "--threads", 1, "--seed", args.seed], log, done)
    alum = json.loads((encoder / "pretrain_summary.json").read_text())

    untrained = ["--head-config", "similarity=cosine", "--head-config", "pooling=mean"]
    run(["hnn", "evaluate", "--encoder", encoder, "--data-dir", hnn, "--tasks", "wsc273,pdp60", *untrained,
         "--output-dir", work / "zero-shot", *one], log, done)
    run(["hnn", "evaluate", "--encoder", encoder, "--data-dir", hnn, "--tasks", "hnnwnli", "--splits", "dev", *untrained,
         "--output-dir", work / "zero-shot-wnli", *one], log, done)

    limit = ["--max-train-samples", args.max_train_samples] if args.max_train_samples else []
    run(["train", "--plugin", "hnn", "--data-dir", hnn, "--tasks", "dprd,hnnwnli", "--encoder", encoder,
         "--epochs", args.epochs, "--batch-size", args.batch_size, "--lr", args.lr, "--seed", args.seed,
         "--output-dir", work / "run", "--no-progress", *limit, *one], log, done)
    run(["hnn", "evaluate", "--checkpoint", work / "run", "--head-from", "dprd", "--data-dir", hnn,
         "--tasks", "wsc273,pdp60", "--output-dir", work / "transfer", *one], log, done)
    run(["hnn", "evaluate", "--checkpoint", work / "run", "--data-dir", hnn, "--tasks", "hnnwnli", "--splits", "dev",
         "--output-dir", work / "transfer-wnli", *one], log, done)

    trained = json.loads((work / "run" / "metrics.json").read_text())[-1]
    result = {
        "benchmark": "hnn_cpu",
        "settings": {"encoder": "all-minilm-l6-v2 + masked-LM head from mtdnn alum pretrain (adv_alpha 0)",
                     "alum_steps": args.alum_steps, "train_tasks": "dprd (1322) + hnnwnli train (635)",
                     "epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size, "seed": args.seed,
                     "max_train_samples": args.max_train_samples, "threads": 1,
                     "untrained_similarity": "cosine of mean-pooled spans (no trained parameters)",
                     "trained_head": "bilinear similarity, attention pooling; WSC273/PDP60 scored by the dprd head, "
                                     "WNLI dev by the hnnwnli head"},
        "alum": {k: alum[k] for k in ("steps", "train_blocks", "heldout_mlm_loss_before", "heldout_mlm_loss_after")},
        "no_fine_tuning": {**table(work / "zero-shot" / "scores", "hnn"), **table(work / "zero-shot-wnli" / "scores", "hnn")},
        "after_training": {**table(work / "transfer" / "scores", "hnn"), **table(work / "transfer-wnli" / "scores", "hnn"),
                           "dprd_test": {**{KEYS[k]: round(v, 2) for k, v in trained["metrics"]["dprd_test"].items()
                                            if k in KEYS}, "n": 564, "chance_2se": round(200 * math.sqrt(0.25 / 564), 1)}},
        "paper_anchor": PAPER,
        "commands": log,
        "cpu_s_total": round(sum(c["cpu_s"] for c in log), 1),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
