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
            pad_id: int = 0, autocast: Any = None, dist: Any = None, lockstep: bool = False) -> dict[str, list] | None:
    """Run the model over ``dataset`` in order; return uids, predictions, scores and golds.

    With ``dist`` (a data-parallel run) each rank runs every ``world``-th batch and rank 0
    decodes all of them in order (every row scored exactly once); the other ranks return None.
    ``lockstep``: every rank runs as many forward passes (a sharded model's are collectives), a
    rank short of a batch runs the last one again and drops its output.
    """
    task = dataset.task
    was_training = model.training
    model.eval()
    sharded = dist is not None and dist.enabled
    decoder = dataset.task_type.decoder(task, model.heads[task.name])
    starts = list(range(0, len(dataset), batch_size))
    broken = 0

    def batch_at(start: int):
        rows = dataset.rows(range(start, min(start + batch_size, len(dataset))))
        if getattr(dataset.task_type, "seeded_collate", False):  # e.g. masking: fixed per batch of rows
            return rows, move_to(dataset.task_type.collate(rows, pad_id, task=task), device)
        return rows, move_to(dataset.task_type.collate(rows, pad_id), device)

    try:
        computed = {}
        for number, start in enumerate(starts):
            if sharded and number % dist.world != dist.rank:
                continue
            rows, batch = batch_at(start)
            with autocast() if autocast else contextlib.nullcontext():
                outputs = model(task.name, batch)
            if isinstance(outputs, torch.Tensor):  # NaN or +inf (-inf marks padded candidates)
                bad = torch.isnan(outputs) | torch.isposinf(outputs)
                broken += int(bad.reshape(bad.shape[0], -1).any(1).sum()) if bad.dim() else int(bad)
            if sharded:
                computed[number] = _to(outputs, torch.device("cpu"))
            else:
                decoder.add(rows, batch, outputs)
        if sharded and lockstep:
            for _ in range(-(-len(starts) // dist.world) - len(computed)):
                with autocast() if autocast else contextlib.nullcontext():
                    model(task.name, batch_at(starts[-1])[1])
        if sharded:
            parts = dist.gather((computed, broken))
            if not dist.is_main:
                return None
            computed = {n: out for part, _ in parts for n, out in part.items()}
            broken = sum(b for _, b in parts)
            for number, start in enumerate(starts):
                rows, batch = batch_at(start)
                decoder.add(rows, batch, _to(computed[number], device))
    finally:
        model.train(was_training)
    if broken:
        raise MtdnnError(f"{dataset.name}: the model's outputs are not finite for {broken} of {len(dataset)} rows "
                         f"(the model diverged); nothing was scored. {DIVERGED_HINT}")
    return decoder.result()


def _to(value: Any, device: torch.device) -> Any:
    """Tensors in (nested) outputs moved to ``device``."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, (list, tuple)):
        return type(value)(_to(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    return value


def compute_metrics(dataset: TaskDataset, output: dict[str, list], metrics: Any) -> dict[str, Any]:
    """The task's metrics on labelled datasets; {} when there are no labels. ``metrics`` is the
    task's metric objects in order (:attr:`ResolvedTask.metrics`), or a metric registry in which
    the names of ``metric_meta`` are looked up."""
    golds = output["golds"]
    if not golds or any(g is None for g in golds):
        return {}
    task = dataset.task
    g, p, s = dataset.task_type.metric_inputs(task, output)
    chosen = [metrics.get(name).factory for name in task.metric_meta] if hasattr(metrics, "get") else list(metrics)
    return {metric.name: metric(g, p, s) for metric in chosen}


def readable_predictions(dataset: TaskDataset, output: dict[str, list]) -> list:
    """Label names where the task has them, numbers otherwise (the task type decides)."""
    return dataset.task_type.readable(dataset.task, output)
