"""Prediction and scoring of one dataset; results become a readable JSON score file."""
from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch

from mtdnn_core.data.batching import collate, move_to
from mtdnn_core.data.features import TaskDataset
from mtdnn_core.data.formats import IGNORE_INDEX


@torch.no_grad()
def predict(model: torch.nn.Module, dataset: TaskDataset, batch_size: int, device: torch.device,
            pad_id: int = 0, autocast: Any = None) -> dict[str, list]:
    """Run the model over ``dataset``; return uids, predictions, scores and golds (if any)."""
    task = dataset.task
    was_training = model.training
    model.eval()
    uids, preds, scores, golds = [], [], [], []
    try:
        for start in range(0, len(dataset), batch_size):
            feats = dataset.features[start : start + batch_size]
            batch = move_to(collate(feats, task.task_type, pad_id), device)
            with autocast() if autocast else contextlib.nullcontext():
                logits = model(task.name, batch)
            logits = logits.float().cpu()
            uids.extend(batch["uids"])
            if task.task_type == "Regression":
                values = logits.view(-1).tolist()
                preds.extend(values)
                scores.extend(values)
            elif task.task_type == "SequenceLabeling":
                word_ids = batch["word_ids"].cpu()
                best = logits.argmax(-1)
                for i, f in enumerate(feats):
                    first = _first_subtokens(word_ids[i])
                    preds.append(best[i, first].tolist())
            else:
                probs = torch.softmax(logits, dim=-1)
                preds.extend(probs.argmax(-1).tolist())
                scores.extend([[round(p, 6) for p in row] for row in probs.tolist()])
            for f in feats:
                label = f["label"]
                if task.task_type == "SequenceLabeling" and label is not None:
                    label = [t for t in label if t != IGNORE_INDEX]
                golds.append(label)
    finally:
        model.train(was_training)
    return {"uids": uids, "predictions": preds, "scores": scores, "golds": golds}


def _first_subtokens(word_ids: torch.Tensor) -> list[int]:
    positions, previous = [], -1
    for pos, w in enumerate(word_ids.tolist()):
        if w >= 0 and w != previous:
            positions.append(pos)
        previous = w
    return positions


def compute_metrics(dataset: TaskDataset, output: dict[str, list], metrics: Any) -> dict[str, Any]:
    """The task's metrics (``metric_meta``) on labelled datasets; {} when there are no labels."""
    golds = output["golds"]
    if not golds or any(g is None for g in golds):
        return {}
    task = dataset.task
    if task.task_type == "SequenceLabeling":
        g = np.array([np.array(x) for x in golds] + [np.array([])], dtype=object)[:-1]
        p = np.array([np.array(x[: len(y)]) for x, y in zip(output["predictions"], golds)] + [np.array([])], dtype=object)[:-1]
        s = None
    else:
        g, p = np.array(golds), np.array(output["predictions"])
        s = np.array(output["scores"]) if output["scores"] else None
    results = {}
    for name in task.metric_meta:
        metric = metrics.get(name).factory
        results[metric.name] = metric(g, p, s)
    return results


def readable_predictions(dataset: TaskDataset, output: dict[str, list]) -> list:
    """Label names where the task has them, numbers otherwise."""
    labels = dataset.task.labels
    if not labels or dataset.task.task_type not in ("Classification", "SequenceLabeling"):
        return output["predictions"]
    if dataset.task.task_type == "SequenceLabeling":
        return [[labels[i] for i in row] for row in output["predictions"]]
    return [labels[i] for i in output["predictions"]]
