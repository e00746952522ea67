"""Does SMART change the model? Plain fine-tuning against SMART and SMART + Bregman on RTE,
MRPC and STS-B over several seeds, plus a small sweep over the perturbation's size and weight.

Every run is ``mtdnn train --plugin glue --plugin alum ... --set regularizers=[...]`` in a
subprocess; its last epoch's dev metrics are kept. Results accumulate in ``--out``: a run
already there (same task, variant, seed and settings) is not repeated, so a long grid can be
measured in several invocations. Medians over seeds and their difference to plain fine-tuning
are recomputed each time.

    # CPU, short runs (benchmarks/results/smart_quality_cpu.json)
    python benchmarks/smart_quality.py --max-train-samples 600 --epochs 2 --batch-size 16 --max-seq-len 64 \\
        --num-threads 1 --tasks rte,mrpc --variants plain,smart
    # GPU, the settings of the issue (all-MiniLM-L6-v2, 5 epochs, lr 1e-4, batch 32, bf16, seeds 1-3)
    python benchmarks/smart_quality.py --device cuda --precision bf16 --epochs 5 --seeds 1,2,3 \\
        --out benchmarks/results/smart_quality_gpu.json

Test sets are left out (a temporary GLUE directory links only train.tsv and dev.tsv), so runs
score dev only. The first-token pooler head is used (SAN off), as in the issue's measurements.
"""
from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from mtdnn_core.testing import real_data_dir

SHARED = real_data_dir() / "glue"
GLUE_DIRS = {"rte": "RTE", "mrpc": "MRPC", "stsb": "STS-B"}
SMART = {"name": "smart", "params": {}}

VARIANTS = {
    "plain": [],
    "smart": [SMART],
    "smart+bregman": [SMART, {"name": "bregman", "params": {"mu": 1.0}}],
}
SWEEP = {
    "smart scale=0.3": [{"name": "smart", "params": {"scale": 0.3}}],
    "smart scale=3": [{"name": "smart", "params": {"scale": 3.0}}],
    "smart alpha=0.3": [{"name": "smart", "params": {"alpha": 0.3}}],
    "smart alpha=3": [{"name": "smart", "params": {"alpha": 3.0}}],
    "smart original (raw ascent, step 1e-5)": [{"name": "smart", "params": {"ascent": "raw", "step_size": 1e-5}}],
    "smart paper-literal (project, radius 1e-5, word embeddings)": [
        {"name": "smart", "params": {"mode": "project", "scale": 1e-5, "where": "word_embeddings", "ascent": "steepest"}}],
}
SETTINGS = ("encoder", "epochs", "batch_size", "lr", "max_seq_len", "max_train_samples", "device", "precision")


def dev_only_glue(tasks: list[str], source: Path, root: Path) -> Path:
    """A GLUE directory whose tasks link train.tsv and dev.tsv only."""
    for task in tasks:
        folder = root / GLUE_DIRS[task]
        folder.mkdir(parents=True, exist_ok=True)
        for split in ("train.tsv", "dev.tsv"):
            if not (source / GLUE_DIRS[task] / split).is_file():
                sys.exit(f"{source / GLUE_DIRS[task] / split}: missing; --data-dir must be a GLUE directory")
            (folder / split).symlink_to(source / GLUE_DIRS[task] / split)
    return root


def mtdnn_command() -> list[str]:
    script = Path(sys.executable).with_name("mtdnn")
    if script.exists():
        return [str(script)]
    found = shutil.which("mtdnn")
    if not found:
        sys.exit("the mtdnn command is not installed next to this Python")
    return [found]


def train_once(task: str, regularizers: list[dict], seed: int, args, data_dir: Path, workdir: Path) -> dict:
    out = workdir / f"{task}-{seed}-{time.time_ns()}"
    command = [
        *mtdnn_command(), "train", "--plugin", "glue", "--plugin", "alum", "--data-dir", str(data_dir), "--tasks", task,
        "--encoder", args.encoder, "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--lr", str(args.lr),
        "--max-seq-len", str(args.max_seq_len), "--seed", str(seed), "--device", args.device, "--precision", args.precision,
        "--output-dir", str(out), "--keep-checkpoints", "1", "--no-progress",
        "--set", "task_overrides=" + json.dumps({task: {"enable_san": False}}),
        "--set", "regularizers=" + json.dumps(regularizers),
    ]
    if args.max_train_samples:
        command += ["--max-train-samples", str(args.max_train_samples)]
    if args.num_threads:
        command += ["--num-threads", str(args.num_threads)]
    if args.num_workers is not None:
        command += ["--num-workers", str(args.num_workers)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.run_timeout)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"run failed ({task}, seed {seed}, {regularizers}):\n{done.stderr[-3000:]}")
    evals = [e for e in json.loads((out / "metrics.json").read_text()) if e.get("event") == "eval"]
    record = {"metrics": evals[-1]["metrics"][f"{task}_dev"], "seconds": round(seconds, 1),
              "regularizer_log": regularizer_log(out / "log.jsonl")}
    shutil.rmtree(out, ignore_errors=True)
    return record


def regularizer_log(path: Path) -> dict[str, float]:
    """Means of the ``reg_*`` values the trainer logs (empty if it logs none)."""
    sums: dict[str, list[float]] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            for key, value in json.loads(line).items():
                if key.startswith("reg_") and isinstance(value, (int, float)):
                    sums.setdefault(key, []).append(float(value))
    return {key: statistics.fmean(values) for key, values in sums.items()}


def summarize(runs: list[dict]) -> dict:
    """Per task and variant: the median of each metric over seeds, and its difference to plain."""
    table: dict[str, dict[str, dict]] = {}
    for run in runs:
        table.setdefault(run["task"], {}).setdefault(run["variant"], {"seeds": [], "values": {}})
        entry = table[run["task"]][run["variant"]]
        entry["seeds"].append(run["seed"])
        for metric, value in run["metrics"].items():
            entry["values"].setdefault(metric, []).append(value)
    summary = {}
    for task, variants in table.items():
        summary[task] = {}
        for variant, entry in variants.items():
            medians = {m: round(statistics.median(v), 2) for m, v in entry["values"].items()}
            summary[task][variant] = {"seeds": sorted(entry["seeds"]), "median": medians}
        plain = summary[task].get("plain")
        for variant, entry in summary[task].items():
            if plain and variant != "plain":
                same = set(entry["seeds"]) == set(plain["seeds"])
                entry["minus_plain"] = {m: round(v - plain["median"][m], 2) for m, v in entry["median"].items()}
                entry["same_seeds_as_plain"] = same
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(SHARED), help="a GLUE directory (RTE/, MRPC/, STS-B/)")
    parser.add_argument("--encoder", default="all-minilm-l6-v2")
    parser.add_argument("--tasks", default="rte,mrpc,stsb")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"any of {', '.join(VARIANTS)}")
    parser.add_argument("--sweep", default="", help="sweep variants ('all' or names separated by ';'): " + "; ".join(SWEEP))
    parser.add_argument("--sweep-tasks", default="rte")
    parser.add_argument("--sweep-seeds", default="1")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-seq-len", type=int, default=128)
    parser.add_argument("--max-train-samples", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--num-threads", type=int, default=None)
    parser.add_argument("--num-workers", type=int, default=None, help="DataLoader workers per run (default: mtdnn's)")
    parser.add_argument("--run-timeout", type=float, default=None, help="seconds one run may take")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (subprocesses; e.g. several on one GPU)")
    parser.add_argument("--deadline", type=float, default=None,
                        help="seconds after which no new run starts (finished runs are kept and summarised)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "smart_quality_cpu.json"))
    args = parser.parse_args()

    settings = {key: getattr(args, key) for key in SETTINGS}
    out = Path(args.out)
    result = json.loads(out.read_text()) if out.is_file() else {"benchmark": "smart_quality", "commands": [], "runs": []}
    if result["runs"] and result.get("settings") != settings:
        sys.exit(f"{out} holds runs with other settings ({result.get('settings')}); use another --out")
    result["settings"] = settings
    result["commands"].append(shlex.join(["python", *sys.argv]))
    result["variants"] = {**VARIANTS, **SWEEP}

    plan = [(t, v, int(s)) for t in args.tasks.split(",") for v in args.variants.split(",") if v
            for s in args.seeds.split(",")]
    sweep = list(SWEEP) if args.sweep == "all" else [v for v in args.sweep.split(";") if v]
    plan += [(t, v, int(s)) for t in args.sweep_tasks.split(",") for v in sweep for s in args.sweep_seeds.split(",")]
    unknown = sorted({v for _, v, _ in plan} - set(result["variants"]))
    if unknown:
        sys.exit(f"unknown variants {unknown}; known: {', '.join(result['variants'])}")
    done = {(r["task"], r["variant"], r["seed"]) for r in result["runs"]}

    # seeds outermost, so that a cut run (--deadline) has every variant's first seeds
    todo = sorted((run for run in plan if run not in done), key=lambda run: (run[2], plan.index(run)))
    started = time.monotonic()
    failures = []

    def attempt(run, data_dir: Path, tmp: str):
        task, variant, seed = run
        if args.deadline is not None and time.monotonic() - started > args.deadline:
            return run, None
        try:
            return run, train_once(task, result["variants"][variant], seed, args, data_dir, Path(tmp))
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            return run, exc

    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        data_dir = dev_only_glue(sorted({t for t, _, _ in plan}), Path(args.data_dir), Path(tmp) / "glue")
        for future in as_completed([pool.submit(attempt, run, data_dir, tmp) for run in todo]):
            (task, variant, seed), record = future.result()
            if record is None:
                continue
            if isinstance(record, Exception):
                failures.append(f"{task} {variant} seed {seed}: {str(record)[-1500:]}")
                print(failures[-1], file=sys.stderr, flush=True)
                continue
            result["runs"].append({"task": task, "variant": variant, "seed": seed, **record})
            result["summary"] = summarize(result["runs"])
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=2) + "\n")
            print(json.dumps({"task": task, "variant": variant, "seed": seed, **record}), flush=True)
    skipped = len(todo) - len(failures) - sum(1 for r in result["runs"] if (r["task"], r["variant"], r["seed"]) in todo)
    if skipped:
        print(f"{skipped} runs not started before the deadline; run the same command again to add them", file=sys.stderr)
    result["summary"] = summarize(result["runs"])
    print(json.dumps(result["summary"], indent=2))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    if failures:
        sys.exit(f"{len(failures)} runs failed (see above); the others are in {out}")


if __name__ == "__main__":
    main()
