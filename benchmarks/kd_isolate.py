"""Why does the distilled multi-task student lose STS-B? One command runs the experiment that
isolates it: single-task teachers (per task, seeds 1-3), their ensemble's soft labels, then
multi-task students on RTE+MRPC+STS-B that differ only in which tasks are distilled:

    hard      every task on its labels (no distillation)
    kd-all    every task distilled (alpha for all)
    kd-cls    the classification tasks distilled, the regression task (STS-B) on its labels
    kd-stsb   the regression task distilled, the classification tasks on their labels
    kd-alpha  each task its own alpha (--task-alpha, default: classification 0.1, regression alpha)
    kd-all-kl kd-all with kd_loss kl for the classification tasks (not in the default --variants)

each for every student seed. Which tasks are distilled is set per task with ``kd_alpha`` in
``task_overrides`` (0: the task trains on its labels alone), so every student reads the same soft
labels. Every run is a subprocess (``mtdnn train``, ``mtdnn kd teach``, ``mtdnn kd train``), up to
``--jobs`` at a time (several fit on one GPU); students on hard labels start beside the teachers.

Resumable and safe to cut: a finished run leaves ``isolate.json`` in its folder under ``--work``
and is reused when the command is run again with the same settings; ``--out`` is rewritten after
every run (per variant the median and each seed's dev metrics, the teachers and their ensemble,
and each task's distillation and hard losses); after ``--deadline`` seconds no new run starts,
and on SIGTERM/SIGINT the runs in flight are stopped and the report written from what finished.

    # GPU (full training sets; about 25 training runs and one teach)
    python benchmarks/kd_isolate.py --device cuda --precision bf16 --jobs 6 --deadline 420 --run-timeout 300 \\
        --work runs/kd-isolate --out benchmarks/results/kd_isolate_gpu.json
    # CPU smoke test
    python benchmarks/kd_isolate.py --encoder tiny-random-bert --max-train-samples 40 --epochs 1 --jobs 2 \\
        --teacher-seeds 1 --student-seeds 1 --work /tmp/kdi --out /tmp/kdi.json

Settings as benchmarks/kd_real.py: 3 epochs, batch 16, max length 64, AdamW lr 1e-4, 10% warm-up,
linear decay, clipping 1.0, first-token pooler heads (SAN off), alpha 0.5, T = 1, full dev sets.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from mtdnn_core.testing import real_data_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smart_quality import mtdnn_command  # noqa: E402  (the mtdnn script beside this Python)

SHARED = real_data_dir() / "glue"
VARIANTS = {
    "hard": "every task on its labels",
    "kd-all": "every task distilled with alpha",
    "kd-cls": "classification tasks distilled with alpha, regression on its labels (kd_alpha 0)",
    "kd-stsb": "regression distilled with alpha, classification tasks on their labels (kd_alpha 0)",
    "kd-alpha": "each task distilled with its own kd_alpha (--task-alpha; others: alpha)",
    "kd-all-kl": "kd-all with kd_loss kl for the classification tasks (regression: mse)",
}
STAMP = "isolate.json"


class Interrupted(Exception):
    pass




def task_types(tasks: list[str]) -> dict[str, str]:
    """Each task's type as the glue plugin defines it (classification or regression)."""
    from mtdnn_core.api import PluginHost

    registries = PluginHost(["glue"]).registries
    return {t: str(registries.tasks.get(t).factory.definition.task_type).lower() for t in tasks}


def parse_pairs(text: str) -> dict[str, float]:
    pairs = {}
    for item in filter(None, text.split(",")):
        task, _, value = item.partition("=")
        pairs[task.strip()] = float(value)
    return pairs


def variant_alphas(variant: str, types: dict[str, str], args) -> dict[str, float] | None:
    """Each task's kd_alpha in a variant; None for the student on hard labels."""
    if variant == "hard":
        return None
    regression = {t for t, kind in types.items() if kind == "regression"}
    if variant in ("kd-all", "kd-all-kl"):
        return {t: args.alpha for t in types}
    if variant == "kd-cls":
        return {t: 0.0 if t in regression else args.alpha for t in types}
    if variant == "kd-stsb":
        return {t: args.alpha if t in regression else 0.0 for t in types}
    given = parse_pairs(args.task_alpha) if args.task_alpha else {t: 0.1 for t in types if t not in regression}
    return {t: given.get(t, args.alpha) for t in types}


class Runner:
    """Runs subprocesses (a log file each), reuses finished ones, records every run and rewrites
    the report after each."""

    def __init__(self, args, work: Path, report):
        self.args = args
        self.work = work
        self.report = report
        self.started = time.monotonic()
        self.lock = threading.RLock()
        self.records: dict[str, dict] = {}
        self.active: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def past_deadline(self) -> bool:
        return self.args.deadline is not None and time.monotonic() - self.started > self.args.deadline

    def finished(self, name: str, key: dict) -> dict | None:
        stamp = self.work / name / STAMP
        if stamp.is_file():
            record = json.loads(stamp.read_text())
            if record.get("key") == key and record.get("status") == "ok":
                return record
        return None

    def run(self, name: str, command: list[str], key: dict, collect) -> dict:
        """Run ``command`` (its output folder is ``work/name``) unless a finished run with the same
        ``key`` is there; ``collect(folder)`` reads what the finished run measured."""
        done = self.finished(name, key)
        if done is not None:
            try:  # read again: the report may take more from a run than when it finished
                done = {**done, **collect(self.work / name)}
            except (OSError, ValueError, KeyError):
                pass
            return self._record(name, {**done, "reused": True})
        if self.stopping or self.past_deadline():
            return self._record(name, {"status": "not started (deadline)" if not self.stopping else "not started (stopped)"})
        folder = self.work / name
        if folder.exists():
            shutil.rmtree(folder)  # an unfinished or outdated run
        folder.parent.mkdir(parents=True, exist_ok=True)
        log = self.work / "logs" / (name.replace("/", "_") + ".log")
        log.parent.mkdir(parents=True, exist_ok=True)
        self._record(name, {"status": "running", "command": shlex.join(command)})
        self.say(f"start {name}")
        began = time.perf_counter()
        with log.open("w") as handle:
            process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
                                       env={**os.environ, "PYTHONUNBUFFERED": "1"})
            with self.lock:
                self.active[name] = process
            try:
                rc = process.wait(timeout=self.args.run_timeout)
                status = "ok" if rc == 0 else f"failed (exit {rc})"
            except subprocess.TimeoutExpired:
                kill(process)
                status = f"timed out after {self.args.run_timeout:g} s"
            except BaseException:  # interrupted while waiting (the teach step runs in the main thread)
                kill(process)
                raise
            finally:
                with self.lock:
                    self.active.pop(name, None)
        if self.stopping and status != "ok":
            status = "stopped (interrupted)"
        record = {"status": status, "command": shlex.join(command), "wall_s": round(time.perf_counter() - began, 1),
                  "log": str(log)}
        if status == "ok":
            try:
                record.update(collect(folder))
            except Exception as exc:  # a run that finished but left no readable results
                record["status"] = f"unreadable results ({type(exc).__name__}: {exc})"
        else:
            record["log_tail"] = log.read_text(errors="replace")[-1500:]
        if record["status"] == "ok":
            (folder / STAMP).write_text(json.dumps({**record, "key": key}, indent=1) + "\n")
        self.say(f"{name}: {record['status']} ({record['wall_s']} s)")
        return self._record(name, record)

    def _record(self, name: str, record: dict) -> dict:
        with self.lock:
            self.records[name] = {k: v for k, v in record.items() if k != "key"}
            if record.get("status") != "running":
                self.report(self)
        return record

    def stop(self) -> None:
        self.stopping = True
        with self.lock:
            for process in list(self.active.values()):
                kill(process)

    def say(self, message: str) -> None:
        with self.lock:
            print(f"[{self.elapsed():6.0f} s] {message}", file=sys.stderr, flush=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def kill(process: subprocess.Popen) -> None:
    """The run and its children (data-loader workers): its process group."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def last_eval(folder: Path) -> dict[str, dict]:
    """Dev metrics of the run's last evaluation, by task."""
    evals = [e for e in json.loads((folder / "metrics.json").read_text()) if e.get("event") == "eval"]
    metrics = evals[-1]["metrics"]
    return {key[: -len("_dev")]: value for key, value in metrics.items() if key.endswith("_dev")}


def loss_log(folder: Path) -> dict[str, dict]:
    """The kd regularizer's logged losses: the mean over the run and over its last third."""
    rows = log_rows(folder)
    keys = sorted({k for r in rows for k in r if k.startswith("reg_kd")})
    out = {}
    for key in keys:
        values = [float(r[key]) for r in rows if isinstance(r.get(key), (int, float))]
        if values:
            out[key] = {"mean": round(statistics.fmean(values), 4),
                        "last_third": round(statistics.fmean(values[len(values) * 2 // 3:]), 4)}
    return out


def log_rows(folder: Path) -> list[dict]:
    path = folder / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


def trajectory(folder: Path) -> dict:
    """Each epoch's mean training loss per task (what the task trained on: with kd, the mixed loss)
    and the dev metrics after it: whether a task learns at all, and when."""
    losses: dict[str, dict[str, list[float]]] = {}
    dev = {}
    for row in log_rows(folder):
        if row.get("event") == "train":
            for task, value in (row.get("task_loss") or {}).items():
                losses.setdefault(task, {}).setdefault(str(row["epoch"]), []).append(float(value))
        elif row.get("event") == "eval":
            dev[str(row["epoch"])] = {k[: -len("_dev")]: {m: round(v, 2) for m, v in ms.items()}
                                      for k, ms in row["metrics"].items() if k.endswith("_dev")}
    return {"train_loss_by_epoch": {t: {e: round(statistics.fmean(v), 4) for e, v in by.items()} for t, by in losses.items()},
            "dev_by_epoch": dev}


def student_result(folder: Path) -> dict:
    result = {"metrics": last_eval(folder), "losses": loss_log(folder), **trajectory(folder)}
    for checkpoint in folder.glob("checkpoint*"):  # not needed once scored; saves disk on a 25-run grid
        if checkpoint.is_dir():
            shutil.rmtree(checkpoint)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default="runs/kd-isolate", help="run folders (reused between calls)")
    parser.add_argument("--out", default="runs/kd-isolate/kd_isolate.json", help="the report (JSON), rewritten after every run")
    parser.add_argument("--data-dir", default=str(SHARED), help="a GLUE directory (RTE/, MRPC/, STS-B/)")
    parser.add_argument("--tasks", default="rte,mrpc,stsb")
    parser.add_argument("--variants", default="hard,kd-all,kd-cls,kd-stsb,kd-alpha", help=f"any of {', '.join(VARIANTS)}")
    parser.add_argument("--teacher-seeds", default="1,2,3")
    parser.add_argument("--student-seeds", default="1,2,3")
    parser.add_argument("--encoder", default="all-minilm-l6-v2")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--eval-batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-seq-len", type=int, default=64)
    parser.add_argument("--max-train-samples", type=int, default=None, help="first N training rows per task (default: all)")
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--task-alpha", default="", help="kd-alpha's kd_alpha per task, e.g. rte=0.1,mrpc=0.1 "
                                                          "(default: 0.1 for classification tasks, --alpha for the others)")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--kd-loss", default=None, help="distillation loss of classification tasks (default: each task's kd_loss, mse)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per run")
    parser.add_argument("--num-workers", type=int, default=None, help="DataLoader workers per run (default: mtdnn's)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (subprocesses; several fit on one GPU)")
    parser.add_argument("--run-timeout", type=float, default=None, help="seconds one run may take (then it is killed)")
    parser.add_argument("--deadline", type=float, default=None, help="seconds after which no new run starts; the report "
                                                                      "is written from what finished")
    parser.add_argument("--note", action="append", default=[], help="a remark recorded with the results (repeatable)")
    args = parser.parse_args()

    tasks = [t for t in args.tasks.split(",") if t]
    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        sys.exit(f"--variants: unknown {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    teacher_seeds = [int(s) for s in args.teacher_seeds.split(",") if s]
    student_seeds = [int(s) for s in args.student_seeds.split(",") if s]
    types = task_types(tasks)
    work, out = Path(args.work).resolve(), Path(args.out).resolve()
    work.mkdir(parents=True, exist_ok=True)
    data_dir = str(Path(args.data_dir).resolve())
    mtdnn = mtdnn_command()

    def train_options(run_tasks: list[str], seed: int, folder: Path, alphas: dict[str, float] | None) -> list[str]:
        overrides = {t: {"enable_san": False, **({"kd_alpha": alphas[t]} if alphas else {})} for t in run_tasks}
        options = ["--plugin", "glue", "--data-dir", data_dir, "--tasks", ",".join(run_tasks), "--encoder", args.encoder,
                   "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--eval-batch-size",
                   str(args.eval_batch_size), "--lr", str(args.lr), "--max-seq-len", str(args.max_seq_len),
                   "--seed", str(seed), "--device", args.device, "--precision", args.precision, "--num-threads",
                   str(args.threads), "--eval-splits", "dev", "--keep-checkpoints", "1", "--no-progress",
                   "--overwrite", "--output-dir", str(folder), "--set", "task_overrides=" + json.dumps(overrides)]
        if args.max_train_samples:
            options += ["--max-train-samples", str(args.max_train_samples)]
        if args.num_workers is not None:
            options += ["--num-workers", str(args.num_workers)]
        return options

    def report(runner: Runner) -> None:
        write_report(out, runner, args, tasks, types, variants, teacher_seeds, student_seeds)

    runner = Runner(args, work, report)
    previous = json.loads(out.read_text()) if out.is_file() else {}
    runner.invocations = [*previous.get("invocations", []), shlex.join(["python", *sys.argv])]

    def on_signal(signum, frame):
        for number in (signal.SIGTERM, signal.SIGINT):  # `timeout` signals the process and its group: once is enough
            signal.signal(number, signal.SIG_IGN)
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    teachers = [(task, seed) for seed in teacher_seeds for task in tasks]
    teach_name = "soft"
    soft_dir = work / teach_name
    pool = ThreadPoolExecutor(max_workers=max(1, args.jobs))
    try:
        teacher_jobs = {}
        for task, seed in teachers:
            name = f"teachers/{task}-seed{seed}"
            command = [*mtdnn, "train", *train_options([task], seed, work / name, None)]
            teacher_jobs[(task, seed)] = pool.submit(runner.run, name, command, {"command": command}, student_result_keep)
        student_jobs = []
        hard_first = [("hard", s) for s in student_seeds if "hard" in variants]
        for variant, seed in hard_first:  # no soft labels needed: beside the teachers
            name = f"students/hard-seed{seed}"
            command = [*mtdnn, "train", *train_options(tasks, seed, work / name, None)]
            student_jobs.append(pool.submit(runner.run, name, command, {"command": command}, student_result))
        wait(list(teacher_jobs.values()))
        ready = [(t, s) for (t, s), job in teacher_jobs.items() if job.result().get("status") == "ok"]
        lacking = [t for t in tasks if not any(rt == t for rt, _ in ready)]
        kd_variants = [v for v in variants if v != "hard"]
        teach_key = None
        if lacking:
            runner._record(teach_name, {"status": f"not started: no finished teacher of {', '.join(lacking)}"})
        elif kd_variants:
            command = [*mtdnn, "kd", "teach", "--plugin", "glue", "--tasks", ",".join(tasks), "--data-dir", data_dir,
                       "--out", str(soft_dir), "--temperature", str(args.temperature), "--max-seq-len", str(args.max_seq_len),
                       "--batch-size", str(max(args.eval_batch_size, 64)), "--device", args.device, "--num-threads",
                       str(args.threads), "--overwrite"]
            for task, seed in ready:
                command += ["--teacher", f"{task}={work / f'teachers/{task}-seed{seed}'}"]
            if args.max_train_samples:
                command += ["--max-train-samples", str(args.max_train_samples)]
            teach_key = {"command": command}
            taught = runner.run(teach_name, command, teach_key, teach_result)
            if taught.get("status") != "ok":
                teach_key = None
        for seed in student_seeds:
            for variant in kd_variants:
                name = f"students/{variant}-seed{seed}"
                if teach_key is None:
                    runner._record(name, {"status": "not started: no soft labels"})
                    continue
                alphas = variant_alphas(variant, types, args)
                loss = "kl" if variant == "kd-all-kl" else args.kd_loss
                command = [*mtdnn, "kd", "train", "--soft-labels", str(soft_dir), "--alpha", str(args.alpha),
                           *(["--kd-loss", loss] if loss else []), *train_options(tasks, seed, work / name, alphas)]
                # the soft labels it was trained on are part of what makes a finished run reusable
                key = {"command": command, "soft_labels": teach_key}
                student_jobs.append(pool.submit(runner.run, name, command, key, student_result))
        wait(student_jobs)
        pool.shutdown(wait=True)
    except Interrupted as exc:
        runner.stop()
        print(f"{exc}: stopped the runs in flight; the report keeps what finished", file=sys.stderr, flush=True)
        pool.shutdown(wait=True, cancel_futures=True)
        report(runner)
        sys.exit(143)
    report(runner)
    print(json.loads(out.read_text())["table"])
    unfinished = [n for n, r in runner.records.items() if r.get("status") != "ok"]
    if unfinished:
        print(f"{len(unfinished)} runs not finished ({', '.join(unfinished)}); run the same command again to add them",
              file=sys.stderr)


def student_result_keep(folder: Path) -> dict:
    """A teacher's dev metrics; its checkpoint stays (the teach step reads it)."""
    return {"metrics": last_eval(folder)}


def teach_result(folder: Path) -> dict:
    body = json.loads((folder / "report.json").read_text())
    out = {"ensemble": {}, "teachers": {}, "agreement": {}}
    for task, entry in body["tasks"].items():
        split = next((s for s in entry["ensemble"]["scores"] if s != "train"), "train")
        out["ensemble"][task] = entry["ensemble"]["scores"].get(split, {})
        out["teachers"][task] = [t["scores"].get(split, {}) for t in entry["teachers"]]
        out["agreement"][task] = entry["agreement"]
    out["teacher_runs"] = [t["run"] for t in body["teachers"]]
    return out


# -- the report ----------------------------------------------------------------------------
def columns(tasks: list[str], rows: list[dict]) -> list[tuple[str, str]]:
    found = []
    for task in tasks:
        for row in rows:
            for metric, value in row.get(task, {}).items():
                if isinstance(value, (int, float)) and (task, metric) not in found:
                    found.append((task, metric))
    order = {t: i for i, t in enumerate(tasks)}
    return sorted(found, key=lambda c: order[c[0]])


def summarize(per_seed: dict[int, dict]) -> dict:
    """Per task and metric: the median over seeds and each seed's value."""
    out: dict[str, dict] = {}
    for seed, metrics in sorted(per_seed.items()):
        for task, values in metrics.items():
            for metric, value in values.items():
                if isinstance(value, (int, float)):
                    entry = out.setdefault(task, {}).setdefault(metric, {"median": None, "seeds": {}})
                    entry["seeds"][str(seed)] = round(float(value), 2)
    for task in out.values():
        for entry in task.values():
            entry["median"] = round(statistics.median(entry["seeds"].values()), 2)
    return out


def write_report(out: Path, runner: Runner, args, tasks, types, variants, teacher_seeds, student_seeds) -> None:
    records = runner.records
    systems: dict[str, dict] = {}
    teacher_metrics: dict[int, dict] = {}
    for seed in teacher_seeds:
        for task in tasks:
            record = records.get(f"teachers/{task}-seed{seed}", {})
            if record.get("status") == "ok":
                teacher_metrics.setdefault(seed, {})[task] = record["metrics"].get(task, {})
    systems["single-task (the teachers)"] = {"seeds_planned": teacher_seeds, "scores": summarize(teacher_metrics)}
    taught = records.get("soft", {})
    if taught.get("status") == "ok":
        per_task = max(len(v) for v in taught["teachers"].values())
        systems[f"ensemble of the teachers ({per_task} per task)"] = {
            "scores": {t: {m: {"median": round(v, 2), "seeds": {}} for m, v in s.items() if isinstance(v, (int, float))}
                       for t, s in taught["ensemble"].items()}}
    losses: dict[str, dict] = {}
    for variant in variants:
        per_seed, loss_rows = {}, {}
        for seed in student_seeds:
            record = records.get(f"students/{variant}-seed{seed}", {})
            if record.get("status") == "ok":
                per_seed[seed] = record["metrics"]
                loss_rows[seed] = record.get("losses", {})
        systems[variant] = {"seeds_planned": student_seeds, "scores": summarize(per_seed),
                            "kd_alpha": variant_alphas(variant, types, args)}
        if any(loss_rows.values()):
            keys = sorted({k for row in loss_rows.values() for k in row})
            losses[variant] = {k: round(statistics.median(row[k]["mean"] for row in loss_rows.values() if k in row), 4)
                               for k in keys}
    table_rows = {name: {t: {m: e for m, e in ms.items()} for t, ms in body["scores"].items()} for name, body in systems.items()}
    cols = columns(tasks, [{t: {m: 0.0 for m in ms} for t, ms in row.items()} for row in table_rows.values()])
    lines = ["| system (dev) | " + " | ".join(f"{t} {m}" for t, m in cols) + " |", "|---|" + "---|" * len(cols)]
    for name, row in table_rows.items():
        cells = []
        for task, metric in cols:
            entry = row.get(task, {}).get(metric)
            if entry is None:
                cells.append("-")
            elif entry["seeds"]:
                cells.append(f"{entry['median']:.2f} ({' / '.join(f'{v:.2f}' for v in entry['seeds'].values())})")
            else:
                cells.append(f"{entry['median']:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(lines) + "\n"
    if losses:
        keys = sorted({k for row in losses.values() for k in row if k.startswith(("reg_kd_kd_", "reg_kd_hard_"))})
        table += ("\nMean losses over training (median over seeds): " + "; ".join(
            f"{v}: " + ", ".join(f"{k[len('reg_kd_'):]} {row[k]:.3f}" for k in keys if k in row) for v, row in losses.items()) + "\n")
    import torch

    device = torch.cuda.get_device_name(0) if args.device.startswith("cuda") and torch.cuda.is_available() else platform.processor() or "cpu"
    result = {
        "benchmark": "kd_isolate",
        "invocations": getattr(runner, "invocations", []),
        "settings": {k: v for k, v in vars(args).items() if k not in ("note", "out", "work")},
        "machine": f"{device}; {os.cpu_count()} CPUs; up to {args.jobs} runs at a time",
        "notes": args.note,
        "variants": {v: VARIANTS[v] for v in variants},
        "elapsed_s": round(runner.elapsed(), 1),
        "finished": sum(r.get("status") == "ok" for r in records.values()),
        "not_finished": {n: r.get("status") for n, r in records.items() if r.get("status") != "ok"},
        "systems": systems,
        "kd_losses": losses,
        "table": table,
        "runs": records,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(out)


if __name__ == "__main__":
    main()
