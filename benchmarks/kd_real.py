"""Knowledge distillation on real GLUE data (RTE, MRPC, STS-B) with all-MiniLM-L6-v2: single-task
teachers (seeds 1-3), their ensemble, the distilled multi-task student, the same multi-task run on
hard labels alone, and the single-task baseline, dev metrics side by side.

It runs ``mtdnn kd recipe`` stage by stage; each call reuses what earlier calls finished in
``--work``, so a small CPU can run it in pieces (the CPU seconds of each piece are recorded):

    python benchmarks/kd_real.py --work runs/kd-bench --stages teachers --seeds 1   # then 2, 3
    python benchmarks/kd_real.py --work runs/kd-bench --stages teach
    python benchmarks/kd_real.py --work runs/kd-bench --stages student
    python benchmarks/kd_real.py --work runs/kd-bench --stages hard
    python benchmarks/kd_real.py --work runs/kd-bench --stages student --kd-loss kl   # a second student
    python benchmarks/kd_real.py --work runs/kd-bench --stages report --out benchmarks/results/kd_cpu.json

Same settings for every run: the first 600 rows of each training set, 3 epochs, batch 16,
max length 64, AdamW lr 1e-4, 10% warm-up, linear decay, clipping 1.0, first-token pooler heads
(SAN off), full dev sets.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from mtdnn_core.testing import real_data_dir

SHARED = real_data_dir() / "glue"
TASKS = ("rte", "mrpc", "stsb")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True, help="recipe output folder (reused between calls)")
    parser.add_argument("--stages", default="teachers,teach,student,hard,report")
    parser.add_argument("--seeds", default=None, help="teacher seeds for the teachers stage (default: all)")
    parser.add_argument("--teacher-seeds", default="1,2,3")
    parser.add_argument("--student-seed", type=int, default=1)
    parser.add_argument("--encoder", default="all-minilm-l6-v2")
    parser.add_argument("--data-dir", default=str(SHARED))
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-seq-len", type=int, default=64)
    parser.add_argument("--max-train-samples", type=int, default=600)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--kd-loss", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None, help="write the JSON here too")
    parser.add_argument("--note", action="append", default=[], help="a remark recorded with the results (repeatable)")
    args = parser.parse_args()
    import torch

    from mtdnn_kd.recipe import Recipe, RecipeSettings

    torch.set_num_threads(args.threads)
    tasks = [t for t in args.tasks.split(",") if t]
    base = {"encoder": args.encoder, "data_dir": args.data_dir, "epochs": args.epochs, "batch_size": args.batch_size,
            "eval_batch_size": 128, "lr": args.lr, "max_seq_len": args.max_seq_len,
            "max_train_samples": args.max_train_samples, "num_threads": args.threads, "device": args.device,
            "task_overrides": {t: {"enable_san": False} for t in tasks}}
    settings = RecipeSettings(tasks=tasks, base=base, teacher_seeds=[int(s) for s in args.teacher_seeds.split(",")],
                              student_seed=args.student_seed, alpha=args.alpha, temperature=args.temperature,
                              kd_loss=args.kd_loss, baseline=True, hard_student=True, plugins=["glue"])
    work = Path(args.work)
    recipe = Recipe(settings, work, progress=False, log=lambda m: print(m, file=sys.stderr))
    stages = [s for s in args.stages.split(",") if s]
    ledger_path = work / "cpu.json"
    work.mkdir(parents=True, exist_ok=True)
    ledger = json.loads(ledger_path.read_text()) if ledger_path.is_file() else {}
    for stage in stages:
        started, wall = cpu_seconds(), time.perf_counter()
        if stage == "teachers":
            seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
            recipe.teachers(seeds)
            stage = f"teachers-{args.seeds or 'all'}"
        elif stage == "student":
            recipe.run((stage,))
            stage = recipe.student_dir()
        elif stage == "report":
            results = recipe.run(("baseline", "report"))
        else:
            recipe.run((stage,))
        if stage != "report":
            ledger[stage] = {"cpu_s": round(cpu_seconds() - started, 1), "wall_s": round(time.perf_counter() - wall, 1)}
            ledger_path.write_text(json.dumps(ledger, indent=2) + "\n")
    if "report" not in stages:
        return
    students = {}
    for folder in sorted(work.glob("student*")):
        params = json.loads((folder / "config.json").read_text())["regularizers"][-1]["params"]
        students[folder.name] = {"alpha": params["alpha"],
                                 "kd_loss": params.get("loss") or "each task's kd_loss (mse for rte, mrpc, stsb)"}
    output = {
        "benchmark": "kd_real",
        "settings": {**vars(args), **results["settings"]},
        "machine": "2 CPU cores shared with other jobs (load 10-12), 1 torch thread, nice -n 10",
        "notes": args.note,
        "students": students, "splits": results["splits"], "systems": results["systems"], "agreement": results["agreement"],
        "cpu_s_by_stage": ledger, "cpu_s_total": round(sum(v["cpu_s"] for v in ledger.values()), 1),
        "train_wall_s_by_run": results["timings_s"],
        "table": (work / "results.md").read_text(),
    }
    text = json.dumps(output, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
