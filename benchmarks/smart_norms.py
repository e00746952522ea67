"""Does each SMART norm's default give a term of the same order? On real RTE rows with
all-MiniLM-L6-v2 (fresh head and after ``--warm-steps`` plain updates, dropout off), for the
inf, l2 and l1 norms: the adversarial term against the task loss, its gradient on the encoder
against the task loss's, and how far the ascent moved the perturbation from its random start
(``start_noise_cosine``: 1 = not at all). "before" is the former fixed ``scale: 1.0,
step_size: 1e-3`` for every norm; "default" is what the plugin uses now. Prints JSON and
writes it to ``--out``.

    python benchmarks/smart_norms.py --num-threads 2
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from smart_scale import encoder_grad_norm, rte_setup

NORMS = ("inf", "l2", "l1")
SETTINGS = {"before (scale 1.0, step 1e-3)": {"scale": 1.0, "step_size": 1e-3}, "default": {}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-seq-len", type=int, default=64)
    parser.add_argument("--warm-steps", type=int, default=20)
    parser.add_argument("--probes", type=int, default=3, help="held-out batches averaged")
    parser.add_argument("--num-threads", type=int, default=None)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "smart_norms_cpu.json"))
    args = parser.parse_args()
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    started = time.perf_counter()
    registries, model, task, rows, batch = rte_setup(args)
    probes = [batch(len(rows) - (i + 1) * args.batch_size) for i in range(args.probes)]  # never trained on

    def measure():
        model.eval()
        out = {}
        for name, params in SETTINGS.items():
            for norm in NORMS:
                sums: dict[str, float] = {}
                for probe, labels in probes:
                    logits = model("rte", probe)
                    task_loss = F.cross_entropy(logits, labels)
                    regularizer = registries.regularizers.build("smart", {"norm": norm, **params}, registries=registries)
                    torch.manual_seed(2)
                    term = regularizer(model, task, probe, logits, task_loss)
                    values = {"term_over_task_loss": float(term) / float(task_loss),
                              "encoder_grad_ratio": encoder_grad_norm(model, term) / encoder_grad_norm(model, task_loss),
                              **regularizer.log_values()}
                    for key, value in values.items():
                        sums[key] = sums.get(key, 0.0) + value / len(probes)
                out[f"{name}, {norm}"] = {key: float(f"{value:.4g}") for key, value in sums.items()}
        return out

    result = {"benchmark": "smart_norms", "settings": vars(args), "fresh": measure()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    for step in range(args.warm_steps):
        inputs, y = batch(step * args.batch_size)
        loss = F.cross_entropy(model("rte", inputs), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    result[f"after {args.warm_steps} updates"] = measure()
    result["seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(result, indent=2)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
