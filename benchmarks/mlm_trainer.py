"""Masked-LM continual pre-training through the trainer on the real Wikipedia sample: held-out
masked-LM loss before and after a short run (all-MiniLM-L6-v2, whose checkpoint has no MLM head:
the tied head starts fresh), optionally with ALUM's adversarial term (--adv-alpha, alum plugin);
the run's TensorBoard events read back with TensorBoard's own reader, and its plots drawn.

    python benchmarks/mlm_trainer.py --steps 20 --batch-size 8 --whole-word --out benchmarks/results/mlm_trainer_cpu.json
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from mtdnn_core.testing import real_data_dir

CORPUS = real_data_dir() / "mlm" / "mlm_train.json"


def tensorboard_scalars(log_dir: Path) -> dict[str, int]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(log_dir))
    events.Reload()
    return {tag: len(events.Scalars(tag)) for tag in sorted(events.Tags()["scalars"])}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", default="all-minilm-l6-v2")
    parser.add_argument("--corpus", default=str(CORPUS))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-seq-len", type=int, default=128)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--whole-word", action="store_true")
    parser.add_argument("--adv-alpha", type=float, default=0.0, help="ALUM's adversarial term (needs the alum plugin)")
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    import torch

    from mtdnn_core.api import plot_runs
    from mtdnn_alum.pretrain import continue_pretraining

    torch.set_num_threads(args.threads)
    work = Path(args.work or tempfile.mkdtemp(prefix="mlm-trainer-"))
    regularizers, plugins = [], []
    if args.adv_alpha > 0:  # ALUM: the smart regularizer's term at the masked positions (the alum plugin's defaults)
        plugins = ["alum"]
        regularizers = [{"name": "smart", "params": {"alpha": args.adv_alpha}}]
    start = time.perf_counter()
    summary = continue_pretraining(args.encoder, args.corpus, work, steps=args.steps, batch_size=args.batch_size,
                                   max_len=args.max_seq_len, lr=args.lr, whole_word=args.whole_word,
                                   regularizers=regularizers, plugins=plugins, eval_every=args.eval_every,
                                   report_to=["jsonl", "tensorboard"], num_threads=args.threads, device="cpu",
                                   progress=False)
    summary["seconds"] = round(time.perf_counter() - start, 1)
    run = work / "run"
    summary["tensorboard_scalars"] = tensorboard_scalars(run / "tensorboard")
    summary["plots"] = [str(p) for p in plot_runs([run], work / "plots")]
    history = json.loads((run / "metrics.json").read_text())
    summary["heldout_curve"] = [(h["step"], h["metrics"]["mlm_dev"]["mlm_loss"]) for h in history]
    result = {"benchmark": "mlm_trainer", "settings": vars(args), **summary}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(f"plots in {work / 'plots'}", file=sys.stderr)


if __name__ == "__main__":
    main()
