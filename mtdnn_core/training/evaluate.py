"""Prediction and scoring of one dataset; results become a readable JSON score file."""
from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch

from mtdnn_core.data.batching import collate, move_to
from mtdnn_core.data.features import TaskDataset


@torch.no_grad()
def predict(model: torch.nn.Module, dataset: TaskDataset, batch_size: int, device: torch.device,
            pad_id: int = 0, autocast: Any = None) -> dict[str, list]:
    """Run the model over ``dataset``; return uids, predictions, scores and golds (if any)."""
    task = dataset.task
    was_training = model.training
    model.eval()
    uids, preds, scores, golds = [], [], [], []
    words = WordStitcher()
    try:
        for start in range(0, len(dataset), batch_size):
            feats = dataset.features[start : start + batch_size]
            batch = move_to(collate(feats, task.task_type, pad_id), device)
            with autocast() if autocast else contextlib.nullcontext():
                logits = model(task.name, batch)
            if task.task_type == "SequenceLabeling":
                tags = model.heads[task.name].decode(logits, batch).cpu()
                for i, f in enumerate(feats):
                    words.add(f, tags[i])
                continue
            logits = logits.float()
            uids.extend(batch["uids"])
            golds.extend(f["label"] for f in feats)
            if task.task_type == "Regression":
                values = logits.view(-1).tolist()
                preds.extend(values)
                scores.extend(values)
            else:
                probs = torch.softmax(logits, dim=-1)
                preds.extend(probs.argmax(-1).tolist())
                scores.extend([[round(p, 6) for p in row] for row in probs.tolist()])
    finally:
        model.train(was_training)
    if task.task_type == "SequenceLabeling":
        return words.result()
    return {"uids": uids, "predictions": preds, "scores": scores, "golds": golds}


class WordStitcher:
    """Collects per-token predictions of (possibly windowed) sentences and keeps, for each
    word, the prediction of the window in which it sits farthest from an edge."""

    def __init__(self):
        self.sentences: dict[str, dict] = {}

    def add(self, feature: dict, tags: torch.Tensor) -> None:
        sentence = self.sentences.setdefault(feature["uid"], {"n": feature["n_words"], "best": {}})
        if "words" in feature:
            sentence["words"], sentence["gold"] = feature["words"], feature["word_labels"]
        local = [(pos, w) for pos, w in enumerate(feature["word_ids"])
                 if w >= 0 and (pos == 0 or feature["word_ids"][pos - 1] != w)]
        if not local:
            return
        span = local[-1][1]
        for pos, w in local:
            centrality = min(w, span - w)
            index = feature["word_offset"] + w
            if index not in sentence["best"] or centrality > sentence["best"][index][0]:
                sentence["best"][index] = (centrality, int(tags[pos]))

    def result(self) -> dict[str, list]:
        uids, preds, golds, words = [], [], [], []
        for uid, sentence in self.sentences.items():
            uids.append(uid)
            # a word the tokenizer dropped entirely (no sub-token) is predicted as the first label
            preds.append([sentence["best"].get(i, (0, 0))[1] for i in range(sentence["n"])])
            golds.append(sentence.get("gold"))
            words.append(sentence.get("words"))
        return {"uids": uids, "predictions": preds, "scores": [], "golds": golds, "words": words}


def compute_metrics(dataset: TaskDataset, output: dict[str, list], metrics: Any) -> dict[str, Any]:
    """The task's metrics (``metric_meta``) on labelled datasets; {} when there are no labels."""
    golds = output["golds"]
    if not golds or any(g is None for g in golds):
        return {}
    task = dataset.task
    if task.task_type == "SequenceLabeling":
        names = task.labels or []
        as_names = (lambda row: [names[i] for i in row]) if names else list  # noqa: E731
        g = np.empty(len(golds), dtype=object)
        p = np.empty(len(golds), dtype=object)
        for i, (gold, pred) in enumerate(zip(golds, output["predictions"])):
            g[i], p[i] = as_names(gold), as_names(pred)
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
