"""The ``span`` (SQuAD 1.1) and ``span_v2`` (SQuAD 2.0, with "no answer") task types."""
from __future__ import annotations

import numpy as np
import torch

from mtdnn_core.api import DataError, TaskType, pad_text
from mtdnn_squad.decode import SpanDecoder, check_windowing
from mtdnn_squad.head import PADDING_LOGIT
from mtdnn_squad.settings import span_settings

V1_METRICS = ("squad_em", "squad_f1", "squad_report", "EM", "EmF1")
NULL_ODDS_METRICS = ("squad_v2_best_exact", "squad_v2_best_exact_thresh", "squad_v2_best_f1", "squad_v2_best_f1_thresh")


class Span(TaskType):
    """Extractive answers: a start and an end token per window, decoded over a question's windows."""

    name = "span"
    formats = ("squad_json",)
    default_head = "span"
    default_loss = "span_ce"
    default_kd_loss = "mse"
    default_adv_loss = "sym_kl"
    default_metrics = ("squad_em", "squad_f1")
    allows_no_answer = False
    compares_outputs = True

    def comparison_rows(self, outputs, batch):
        """Each window's start distribution and end distribution over its real tokens: rows
        ``[2 * windows, tokens]`` (padding at ``PADDING_LOGIT``, probability 0 in both outputs)."""
        padding = ~batch["attention_mask"].bool().unsqueeze(-1)
        logits = outputs.masked_fill(padding, PADDING_LOGIT)
        return logits.transpose(1, 2).reshape(-1, logits.shape[1])

    def default_n_class(self, task):
        return 2

    def check(self, task):
        problems = []
        if task.n_class not in (None, 2):
            problems.append(f"n_class: a span task predicts a start and an end (n_class 2), not {task.n_class}")
        if task.labels:
            problems.append("labels: a span task has no label list")
        if self.allows_no_answer:
            wrong = [m for m in task.metric_meta if m in V1_METRICS]
            if wrong:
                problems.append(f"metric_meta: {', '.join(wrong)} follow SQuAD 1.1 rules, which have no 'no answer'; "
                                f"use squad_v2_* (or EmF12) for task type {self.name}")
        else:
            wrong = [m for m in task.metric_meta if m in NULL_ODDS_METRICS]
            if wrong:
                problems.append(f"metric_meta: {', '.join(wrong)} need null odds, which only task type span_v2 has")
        return problems

    def parse_label(self, raw, task, where):
        raise DataError(f"{where}: task '{task.name}' reads SQuAD JSON files (data_format squad_json), not label cells")

    def collate(self, rows, pad_id):
        batch = {"uids": [r["uid"] for r in rows], **pad_text(rows, pad_id)}
        labels = [r.get("label") for r in rows]
        if all(label is not None for label in labels):
            batch["labels"] = torch.from_numpy(np.stack([np.asarray(label, dtype=np.int64) for label in labels]))
        if "weight" in rows[0]:
            batch["weights"] = torch.tensor([float(r["weight"]) for r in rows], dtype=torch.float)
        batch["windowing"] = {"doc_stride": rows[0]["doc_stride"], "max_query_length": rows[0]["max_query_length"]}
        return batch

    def compute_loss(self, head, loss_fn, outputs, batch):
        settings = getattr(head, "config", None)
        if settings is not None and "windowing" in batch:
            check_windowing(batch["windowing"], settings)
        return super().compute_loss(head, loss_fn, outputs, batch)

    def decoder(self, task, head):
        return SpanDecoder(span_settings(task), self.allows_no_answer)

    def metric_inputs(self, task, output):
        golds = np.empty(len(output["golds"]), dtype=object)
        predictions = np.empty(len(output["predictions"]), dtype=object)
        for i, (gold, prediction) in enumerate(zip(output["golds"], output["predictions"])):
            golds[i], predictions[i] = gold, prediction
        scores = np.asarray(output["scores"], dtype=np.float64) if self.allows_no_answer else None
        return golds, predictions, scores

    def readable(self, task, output):
        return list(output["predictions"])


class SpanV2(Span):
    """SQuAD 2.0: as ``span``, plus "no answer" (the CLS position) scored against the best span."""

    name = "span_v2"
    default_metrics = ("squad_v2_exact", "squad_v2_f1", "squad_v2_has_ans_f1", "squad_v2_no_ans_f1",
                       "squad_v2_best_f1", "squad_v2_best_f1_thresh", "squad_v2_report")
    allows_no_answer = True
