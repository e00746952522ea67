"""Step cost of SMART (K ascent steps) against plain fine-tuning: the same encoder, batches
and optimizer; steps alternate in blocks within one process; medians and their ratio as JSON.

    python benchmarks/smart_cost.py                  # CPU, all-MiniLM-L6-v2, K=1
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from mtdnn_core.testing import real_data_dir

SHARED = real_data_dir() / "glue"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", default="all-minilm-l6-v2")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--k", type=int, default=1)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from mtdnn_core.api import PluginHost, TrainConfig, Trainer

    tmp = Path(tempfile.mkdtemp())

    def trainer(regularizers):
        config = TrainConfig(tasks=["rte"], encoder=args.encoder, data_dir=str(SHARED), output_dir=str(tmp / str(len(regularizers))),
                             plugins=["glue", "alum"], batch_size=args.batch_size, max_seq_len=args.seq_len,
                             max_train_samples=args.batch_size * args.steps, max_eval_samples=1, device=args.device,
                             regularizers=regularizers, task_overrides={"rte": {"enable_san": False}})
        t = Trainer(config, PluginHost(["glue", "alum"]), progress=False)
        t.model.train()
        return t

    plain = trainer([])
    smart = trainer([{"name": "smart", "params": {"alpha": 1.0, "steps": args.k}}])
    schedule = plain.sampler.schedule(0)[: args.steps]

    def block(t):
        times = []
        for _, indices in schedule:
            start = time.perf_counter()
            loss = t.forward_loss(0, t.batch(0, indices))
            t.backward(loss)
            t.update()
            if t.device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        return times

    block(plain), block(smart)
    measured = {"plain": [], "smart": []}
    for _ in range(args.rounds):
        measured["plain"] += block(plain)
        measured["smart"] += block(smart)
    med = {k: statistics.median(v) for k, v in measured.items()}
    json.dump({"benchmark": "smart_cost", "device": args.device, "threads": args.threads, "encoder": args.encoder,
               "k": args.k, "batch_size": args.batch_size, "max_seq_len": args.seq_len,
               "steps_timed_each": len(measured["plain"]), "plain_step_ms_median": round(1000 * med["plain"], 1),
               "smart_step_ms_median": round(1000 * med["smart"], 1), "ratio": round(med["smart"] / med["plain"], 3)},
              sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
