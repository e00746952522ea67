"""Sequence labeling: one tag per word (NER, POS, chunking).

The first sub-token of each word carries the word's tag; other positions are ignored in loss and
metric. Sentences longer than the maximum length arrive as overlapping windows of whole words
(see :class:`mtdnn_core.data.formats.Sequence`) and are stitched back so that every word gets
exactly one prediction.
"""
from __future__ import annotations

import numpy as np

from mtdnn_core.data.formats import IGNORE_INDEX
from mtdnn_core.errors import DataError
from mtdnn_core.task_types import Decoder, TaskType


class WordStitcher(Decoder):
    """Collects per-token predictions of (possibly windowed) sentences and keeps, for each word,
    the prediction of the window in which it sits farthest from an edge."""

    def __init__(self, head=None):
        self.head = head
        self.sentences: dict[str, dict] = {}

    def add(self, rows, batch, outputs):
        tags = self.head.decode(outputs, batch).cpu()
        for i, row in enumerate(rows):
            self.add_row(row, tags[i])

    def add_row(self, feature: dict, tags) -> None:
        sentence = self.sentences.setdefault(feature["uid"], {"n": int(feature["n_words"]), "best": {}})
        if feature.get("words") is not None:
            sentence["words"] = list(feature["words"])
            gold = feature.get("word_labels")
            sentence["gold"] = None if gold is None else [int(t) for t in gold]
        word_ids = [int(w) for w in feature["word_ids"]]
        local = [(pos, w) for pos, w in enumerate(word_ids) if w >= 0 and (pos == 0 or word_ids[pos - 1] != w)]
        if not local:
            return
        span = local[-1][1]
        offset = int(feature["word_offset"])
        for pos, w in local:
            centrality = min(w, span - w)
            index = offset + w
            if index not in sentence["best"] or centrality > sentence["best"][index][0]:
                sentence["best"][index] = (centrality, int(tags[pos]))

    def result(self):
        uids, preds, golds, words = [], [], [], []
        for uid, sentence in self.sentences.items():
            uids.append(uid)
            # a word the tokenizer dropped entirely (no sub-token) is predicted as the first label
            preds.append([sentence["best"].get(i, (0, 0))[1] for i in range(sentence["n"])])
            golds.append(sentence.get("gold"))
            words.append(sentence.get("words"))
        return {"uids": uids, "predictions": preds, "scores": [], "golds": golds, "words": words}


class SequenceLabeling(TaskType):
    name = "sequence_labeling"
    default_head = "token"
    default_loss = "seq_ce"
    default_metrics = ("token_accuracy",)
    compares_outputs = True

    def comparison_rows(self, outputs, batch):
        """Tag logits of real tokens (padding left out), a row per token."""
        return outputs[batch["attention_mask"].bool()]

    def comparison_units(self, batch):
        return batch["attention_mask"].sum().float()

    def check(self, task):
        return [] if task.labels else ["labels: sequence labeling needs its tag list (`labels:`)"]

    def parse_label(self, raw, task, where):
        """One tag to its id."""
        mapping = task.label_to_id or {}
        if raw not in mapping:
            raise DataError(f"{where}: column 'labels': unknown label '{raw}' for task '{task.name}'; known labels: {', '.join(mapping)}")
        return mapping[raw]

    def collate(self, rows, pad_id):
        import torch

        from mtdnn_core.data.batching import pad, pad_text

        batch = {"uids": [r["uid"] for r in rows], **pad_text(rows, pad_id)}
        batch["word_ids"] = pad([r["word_ids"] for r in rows], -1)
        labels = [r.get("label") for r in rows]
        if all(label is not None for label in labels):
            batch["labels"] = pad(labels, IGNORE_INDEX)
        if "weight" in rows[0]:
            batch["weights"] = torch.tensor([float(r["weight"]) for r in rows], dtype=torch.float)
        return batch

    def decoder(self, task, head):
        return WordStitcher(head)

    def metric_inputs(self, task, output):
        names = task.labels or []
        golds = np.empty(len(output["golds"]), dtype=object)
        preds = np.empty(len(output["golds"]), dtype=object)
        for i, (gold, pred) in enumerate(zip(output["golds"], output["predictions"])):
            golds[i] = [names[t] for t in gold] if names else list(gold)
            preds[i] = [names[t] for t in pred] if names else list(pred)
        return golds, preds, None

    def readable(self, task, output):
        if not task.labels:
            return output["predictions"]
        return [[task.labels[i] for i in row] for row in output["predictions"]]
