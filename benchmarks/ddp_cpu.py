"""Time per update of 1 process against 2 Gloo ranks (torchrun, CPU), for the ways of reducing
the gradients, on four RTE runs: plain (first-token head), SAN (RTE's default head, which leaves
the encoder's pooler unused), SMART (3 extra forward passes per batch) and KD (soft labels from a
teacher trained here).

Reductions measured:

* ``per_update`` (what the trainer does): the model is not wrapped; every backward pass of an
  update accumulates locally and the gradients are averaged once per update in flat buckets.
* ``ddp``: ``DistributedDataParallel(find_unused_parameters=True)``; DDP averages during the
  backward pass (overlapping communication with computation), after a graph traversal per
  forward to find the unused parameters.
* ``ddp_no_sync``: DDP's wrapper with its reduction switched off (``no_sync`` for every pass)
  and the per-update average of ``per_update``.

Dropout is off, so each 2-rank run must end at the 1-process weights (``max_abs_diff``). Tiny
random BERT, 512 rows (32 updates), batch 16, length 64, one thread per rank; the machine's CPUs
are shared, so each 2-rank run is repeated 3 times, interleaved across the options with the order
rotated per round (round r starts with option r mod 3, so no option always runs first; ``order``
records it), and the number kept is the median over the repeats of each run's median gap between
updates.

The per-update reduction keeps its flat buffers between updates; before it did, it was slower
than DDP no_sync because its backward was (a fresh buffer per update left glibc handing out
gradients in new pages; docs/benchmarks.md).

    python benchmarks/ddp_cpu.py --out benchmarks/results/ddp_cpu.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 512
REPEATS = 3  # each 2-rank run, interleaved across the options, order rotated per round (the CPUs are shared)
WORKLOADS = ("plain", "san", "smart", "kd")
OPTIONS = ("per_update", "ddp", "ddp_no_sync")


def config(workload: str, data: str, out: str, soft: str | None) -> dict:
    head = {"dropout_p": 0.0, "enable_san": workload == "san",
            **({"head_config": {"turn_dropout": 0.0, "memory_dropout": 0.0}} if workload == "san" else {})}
    regularizers = {"smart": [{"name": "smart", "params": {"noise_draw": "row"}}],
                    "kd": [{"name": "kd", "params": {"soft_labels": soft}}]}.get(workload, [])
    return dict(plugins=["glue", "alum", "kd"], tasks=["rte"], encoder="tiny-random-bert", data_dir=data, output_dir=out,
                epochs=1, batch_size=16, max_seq_len=64, lr=1e-3, num_threads=1, device="cpu", seed=1,
                max_train_samples=ROWS, max_eval_samples=16, eval_splits=["dev"], overwrite=True,
                encoder_config={"dropout": 0.0}, task_overrides={"rte": head}, regularizers=regularizers)


def worker(option: str, settings: dict, result: str) -> None:
    """One rank (or the one process): train, timing each update."""
    import torch
    from torch.nn.parallel import DistributedDataParallel

    from mtdnn_core.api import PluginHost, TrainConfig, Trainer

    class Timed(Trainer):
        def _build_model(self, progress):
            super()._build_model(progress)
            self.stamps = []
            if self.dist.enabled and option != "per_update":
                self.train_model = DistributedDataParallel(self.model, find_unused_parameters=True)
                if option == "ddp":
                    self.dist.reduce_gradients = lambda *args, **kwargs: None  # DDP reduced during backward
                else:
                    self.train_model.require_backward_grad_sync = False  # no_sync for every pass

        def update(self):
            done = super().update()
            self.stamps.append(time.perf_counter())
            return done

    cfg = TrainConfig(**settings)
    trainer = Timed(cfg, PluginHost(cfg.plugins), progress=False)
    trainer.train()
    if trainer.dist.is_main:
        gaps = [b - a for a, b in zip(trainer.stamps, trainer.stamps[1:])]
        Path(result).write_text(json.dumps({"updates": len(trainer.stamps), "s_per_update": statistics.median(gaps),
                                            "world": trainer.dist.world}))
    trainer.dist.close()


def launch(option: str, settings: dict, processes: int, work: Path) -> dict:
    result = work / f"{Path(settings['output_dir']).name}.json"
    script = [__file__, "--worker", option, json.dumps(settings), str(result)]
    command = [sys.executable, *script] if processes == 1 else [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes), *script]
    result.unlink(missing_ok=True)
    done = subprocess.run(command, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True)
    if done.returncode:
        if processes == 1 or option == "per_update":
            raise SystemExit(f"{option} x{processes} failed:\n{done.stderr[-3000:]}")
        errors = [line for line in done.stderr.splitlines() if "Error:" in line and "[rank" in line]
        return {"failed": (errors or done.stderr.splitlines()[-1:])[0][:400]}
    return json.loads(result.read_text())


def max_abs_diff(a: Path, b: Path) -> float:
    from mtdnn_core.testing import final_weights

    one, two = final_weights(a), final_weights(b)
    return max(float((one[k] - two[k]).abs().max()) for k in one)


def prepare(work: Path) -> tuple[str, str]:
    """Canonical RTE files and soft labels from a teacher trained on them."""
    from mtdnn_core.api import PluginHost, TrainConfig, Trainer
    from mtdnn_core.testing import real_data_dir
    from mtdnn_glue.convert import convert_task
    from mtdnn_kd.teach import TeachSettings, teach

    data = work / "canonical"
    for split, path in convert_task("rte", real_data_dir() / "glue", data).items():
        if split == "test":
            path.unlink()
    teacher = work / "teacher"
    Trainer(TrainConfig(plugins=["glue"], tasks=["rte"], encoder="tiny-random-bert", data_dir=str(data),
                        output_dir=str(teacher), epochs=1, batch_size=16, max_seq_len=64, num_threads=1, device="cpu",
                        max_train_samples=ROWS, max_eval_samples=16, eval_splits=["dev"], seed=2),
            PluginHost(["glue"]), progress=False).train()
    soft = work / "soft"
    teach([str(teacher)], ["rte"], str(data), {}, soft, TeachSettings(max_train_samples=ROWS, max_eval_samples=16,
                                                                      num_threads=1, device="cpu"), ["glue"], log=lambda _: None)
    return str(data), str(soft)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", nargs=3, metavar=("OPTION", "CONFIG", "RESULT"))
    parser.add_argument("--out", default="benchmarks/results/ddp_cpu.json")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    args = parser.parse_args()
    if args.worker:
        option, settings, result = args.worker
        return worker(option, json.loads(settings), result)
    results = {"setup": {"encoder": "tiny-random-bert", "task": "rte", "rows": ROWS, "batch_size": 16, "max_seq_len": 64,
                         "threads_per_rank": 1, "ranks": 2, "backend": "gloo", "dropout": 0.0, "cpus": os.cpu_count()},
               "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data, soft = prepare(work)
        for workload in args.workloads.split(","):
            single = work / f"{workload}-one"
            row = {"one_process": launch("per_update", config(workload, data, str(single), soft), 1, work)}
            times = {option: [] for option in OPTIONS}
            row["order"] = [list(OPTIONS[r % len(OPTIONS):] + OPTIONS[:r % len(OPTIONS)]) for r in range(REPEATS)]
            for order in row["order"]:
                for option in order:
                    out = work / f"{workload}-{option}"
                    if "failed" in row.get(option, {}):
                        continue
                    done = launch(option, config(workload, data, str(out), soft), 2, work)
                    if "failed" in done:
                        row[option] = done
                        continue
                    times[option].append(done["s_per_update"])
                    row[option] = {"updates": done["updates"], "max_abs_diff_to_one_process": max_abs_diff(single, out)}
            for option in OPTIONS:
                if "failed" not in row[option]:
                    row[option].update(s_per_update=statistics.median(times[option]), repeats=times[option])
            row["one_process"]["repeats"] = [row["one_process"]["s_per_update"]]
            results["runs"][workload] = row
            print(workload, json.dumps(row), flush=True)
            Path(args.out).write_text(json.dumps(results, indent=2) + "\n")  # what is done so far
    fastest = {w: min((o for o in OPTIONS if "failed" not in r[o]), key=lambda o: r[o]["s_per_update"])
               for w, r in results["runs"].items()}
    results["fastest"] = fastest
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
