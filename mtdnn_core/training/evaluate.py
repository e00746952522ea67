"""Prediction and scoring of one dataset; results become a readable JSON score file.

Everything that depends on the kind of task (how a batch collates, how outputs decode, what
metrics receive, how predictions read) is asked of the dataset's task type.
"""
from __future__ import annotations

import contextlib
from typing import Any

import torch

from mtdnn_core.data.batching import move_to
from mtdnn_core.data.features import TaskDataset
from mtdnn_core.errors import MtdnnError

DIVERGED_HINT = "Try a lower --lr, more --warmup or --precision bf16 instead of fp16."


@torch.no_grad()
def predict(model: torch.nn.Module, dataset: TaskDataset, batch_size: int, device: torch.device,
            pad_id: int = 0, autocast: Any = None) -> dict[str, list]:
    """Run the model over ``dataset`` in order; return uids, predictions, scores and golds."""
    task = dataset.task
    was_training = model.training
    model.eval()
    decoder = dataset.task_type.decoder(task, model.heads[task.name])
    broken = 0
    try:
        for start in range(0, len(dataset), batch_size):
            rows = dataset.rows(range(start, min(start + batch_size, len(dataset))))
            if getattr(dataset.task_type, "seeded_collate", False):  # e.g. masking: fixed per batch of rows
                batch = move_to(dataset.task_type.collate(rows, pad_id, task=task), device)
            else:
                batch = move_to(dataset.task_type.collate(rows, pad_id), device)
            with autocast() if autocast else contextlib.nullcontext():
                outputs = model(task.name, batch)
            if isinstance(outputs, torch.Tensor):  # NaN or +inf (-inf marks padded candidates)
                bad = torch.isnan(outputs) | torch.isposinf(outputs)
                broken += int(bad.reshape(bad.shape[0], -1).any(1).sum()) if bad.dim() else int(bad)
            decoder.add(rows, batch, outputs)
    finally:
        model.train(was_training)
    if broken:
        raise MtdnnError(f"{dataset.name}: the model's outputs are not finite for {broken} of {len(dataset)} rows "
                         f"(the model diverged); nothing was scored. {DIVERGED_HINT}")
    return decoder.result()


def compute_metrics(dataset: TaskDataset, output: dict[str, list], metrics: Any) -> dict[str, Any]:
    """The task's metrics (``metric_meta``) on labelled datasets; {} when there are no labels."""
    golds = output["golds"]
    if not golds or any(g is None for g in golds):
        return {}
    task = dataset.task
    g, p, s = dataset.task_type.metric_inputs(task, output)
    results = {}
    for name in task.metric_meta:
        metric = metrics.get(name).factory
        results[metric.name] = metric(g, p, s)
    return results


def readable_predictions(dataset: TaskDataset, output: dict[str, list]) -> list:
    """Label names where the task has them, numbers otherwise (the task type decides)."""
    return dataset.task_type.readable(dataset.task, output)
