"""Tokenizing and caching a large training set, and starting a run on it.

Builds N sentence pairs from real GLUE rows (QNLI dev question/sentence pairs and SST-2 dev
sentences paired with their neighbours, repeated with fresh uids), then in fresh processes:

1. ``mtdnn prepro`` on them (wall time and peak RSS of the process);
2. the start of a training run on the cached features: building the Trainer (plugins, encoder,
   opening the feature store, the epoch's schedule) and fetching the first batch; the
   interpreter's own imports are reported apart.

Prints JSON (``--out`` writes it too).

    python benchmarks/prepro.py                       # 400k pairs, all-MiniLM-L6-v2 tokenizer
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mtdnn_core.testing import real_data_dir

SHARED = real_data_dir() / "glue"
TASKS = "pairs:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n  labels: ['0', '1']\n"

STARTUP = """
import json, sys, time
t0 = time.perf_counter()
from mtdnn_core.api import PluginHost, TrainConfig, Trainer
t1 = time.perf_counter()
config = TrainConfig(**json.loads(sys.argv[1]))
trainer = Trainer(config, PluginHost(), progress=False)
t2 = time.perf_counter()
schedule = trainer.sampler.schedule(0)
_, batch = next(iter(trainer.loader(schedule)))
t3 = time.perf_counter()
print(json.dumps({"imports_s": t1 - t0, "trainer_init_s": t2 - t1, "first_batch_s": t3 - t2,
                  "train_rows": len(trainer.data.train[0]), "batches_per_epoch": len(schedule)}))
"""


def pairs(n: int) -> list[tuple[str, str]]:
    import csv

    base = []
    with open(SHARED / "QNLI" / "dev.tsv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
        base += [(r[1], r[2]) for r in rows if len(r) >= 3]
    with open(SHARED / "SST-2" / "dev.tsv", encoding="utf-8") as handle:
        sst = [r[0] for r in list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]]
        base += list(zip(sst, sst[1:] + sst[:1]))
    return [base[i % len(base)] for i in range(n)]


def clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--encoder", default="all-minilm-l6-v2")
    parser.add_argument("--max-seq-len", type=int, default=128)
    parser.add_argument("--work", default=None, help="working directory (default: a temporary one)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="mtdnn-prepro-"))
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    with open(data / "pairs_train.tsv", "w", encoding="utf-8") as handle:
        for i, (a, b) in enumerate(pairs(args.rows)):
            handle.write(f"p{i}\t{i % 2}\t{clean(a)}\t{clean(b)}\n")
    (work / "tasks.yml").write_text(TASKS)
    cache = work / "cache"
    mtdnn = str(Path(sys.executable).with_name("mtdnn"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [mtdnn, "prepro", "--task-def", str(work / "tasks.yml"), "--tasks", "pairs", "--data-dir", str(data),
               "--encoder", args.encoder, "--max-seq-len", str(args.max_seq_len), "--cache-dir", str(cache)]
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    prepro_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    size = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    config = {"tasks": ["pairs"], "task_def": [str(work / "tasks.yml")], "data_dir": str(data), "encoder": args.encoder,
              "max_seq_len": args.max_seq_len, "cache_dir": str(cache), "output_dir": str(work / "run"), "epochs": 1}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", STARTUP, json.dumps(config)], check=True, env=env,
                         capture_output=True, text=True).stdout
    startup_process_s = time.perf_counter() - start
    startup = json.loads(out.strip().splitlines()[-1])
    result = {
        "benchmark": "prepro", "rows": args.rows, "encoder": args.encoder, "max_seq_len": args.max_seq_len,
        "cpu_cores": os.cpu_count(), "prepro_wall_s": round(prepro_s, 1), "prepro_peak_rss_mb": round(peak_mb),
        "cache_mb": round(size / 2**20, 1),
        "startup_trainer_init_and_first_batch_s": round(startup["trainer_init_s"] + startup["first_batch_s"], 2),
        "startup_imports_s": round(startup["imports_s"], 2), "startup_whole_process_s": round(startup_process_s, 2),
        "train_rows": startup["train_rows"], "batches_per_epoch": startup["batches_per_epoch"],
        "command": " ".join(command[1:]),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
