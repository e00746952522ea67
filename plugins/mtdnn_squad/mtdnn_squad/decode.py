"""From start/end logits of every window of a question to its answer.

Each window offers its ``n_best`` best spans (start <= end, both context tokens, at most
``max_answer_length`` tokens; score = start logit + end logit, searched exhaustively); a
question keeps the ``n_best`` best of all its windows, one per distinct text, mapped back to
the context by character offsets. With "no answer" allowed (SQuAD 2.0), the null score is the
CLS start + end logit (the lowest over the question's windows, as in BERT and Hugging Face);
the null odds are null score - best span score, and the answer is "" when they exceed
``null_threshold``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mtdnn_core.api import DataError, Decoder
from mtdnn_squad.settings import SpanSettings
from mtdnn_squad.windows import NOT_CONTEXT

NO_SPAN_ODDS = 1e9  # null odds of a question without any candidate span (no context token at all)


@dataclass
class Candidate:
    start_char: int  # the span's characters in the context (0, 0 for "no answer")
    end_char: int
    start_logit: float
    end_logit: float
    text: str = ""

    @property
    def score(self) -> float:
        return self.start_logit + self.end_logit


@dataclass
class Question:
    context: str | None = None
    golds: list[str] | None = None
    candidates: list[Candidate] = field(default_factory=list)
    null: Candidate | None = None


def best_spans(start_logits: np.ndarray, end_logits: np.ndarray, is_context: np.ndarray, n_best: int,
               max_answer_length: int) -> list[tuple[int, int]]:
    """The ``n_best`` highest-scoring valid spans ``(start, end)`` of one window, best first."""
    length = len(start_logits)
    starts = np.arange(length)[:, None]
    ends = starts + np.arange(max_answer_length)[None, :]
    valid = (ends < length) & is_context[:, None]
    ends = np.minimum(ends, length - 1)
    valid &= is_context[ends]
    scores = np.where(valid, start_logits[:, None] + end_logits[ends], -np.inf)
    flat = scores.ravel()
    count = min(n_best, int(valid.sum()))
    if count == 0:
        return []
    top = np.argpartition(-flat, count - 1)[:count]
    top = top[np.argsort(-flat[top], kind="stable")]
    return [(int(i // max_answer_length), int(ends.ravel()[i])) for i in top]


def softmax(scores: list[float]) -> list[float]:
    values = np.exp(np.asarray(scores, dtype=np.float64) - max(scores))
    return (values / values.sum()).tolist()


class SpanDecoder(Decoder):
    """Collects every window's logits and decides each question's answer in :meth:`result`."""

    def __init__(self, settings: SpanSettings, allows_no_answer: bool):
        self.settings = settings
        self.allows_no_answer = allows_no_answer
        self.questions: dict[str, Question] = {}

    def add(self, rows, batch, outputs):
        logits = outputs.detach().float().cpu().numpy()
        for i, row in enumerate(rows):
            self.add_window(row, logits[i, : len(row["input_ids"]), 0], logits[i, : len(row["input_ids"]), 1])

    def add_window(self, row: dict, start_logits: np.ndarray, end_logits: np.ndarray) -> None:
        check_windowing(row, self.settings)
        question = self.questions.setdefault(row["uid"], Question())
        if row.get("context") is not None:
            question.context = row["context"]
            question.golds = None if row.get("gold") is None else list(row["gold"]["answers"])
        starts, ends = np.asarray(row["offset_starts"]), np.asarray(row["offset_ends"])
        for s, e in best_spans(start_logits, end_logits, starts != NOT_CONTEXT, self.settings.n_best,
                               self.settings.max_answer_length):
            question.candidates.append(Candidate(int(starts[s]), int(ends[e]), float(start_logits[s]), float(end_logits[e])))
        cls = int(row["cls_index"])
        null = Candidate(0, 0, float(start_logits[cls]), float(end_logits[cls]))
        if question.null is None or null.score < question.null.score:
            question.null = null

    def result(self):
        uids, predictions, odds, golds = [], [], [], []
        nbest, null_odds = {}, {}
        for uid, question in self.questions.items():
            entries = self.nbest(question)
            spans = [c for c in entries if c is not question.null]
            prediction = spans[0].text if spans else ""
            if self.allows_no_answer:
                diff = question.null.score - spans[0].score if spans else NO_SPAN_ODDS
                null_odds[uid] = diff
                odds.append(diff)
                if diff > self.settings.null_threshold:
                    prediction = ""
            uids.append(uid)
            predictions.append(prediction)
            golds.append(question.golds)
            probabilities = softmax([c.score for c in entries]) if entries else []
            nbest[uid] = [{"text": c.text, "probability": p, "start_logit": c.start_logit, "end_logit": c.end_logit}
                          for c, p in zip(entries, probabilities)]
        out = {"uids": uids, "predictions": predictions, "scores": odds, "golds": golds, "nbest": nbest}
        if self.allows_no_answer:
            out["null_odds"] = null_odds
        return out

    def nbest(self, question: Question) -> list[Candidate]:
        """The question's best distinct answers (and, with "no answer" allowed, the null
        candidate), best first."""
        if question.context is None:
            raise DataError("a question's first window (which carries its context) is missing from the features; "
                            "rebuild the feature cache")
        kept: dict[str, Candidate] = {}
        for candidate in sorted(question.candidates, key=lambda c: -c.score):
            candidate.text = question.context[candidate.start_char : candidate.end_char]
            if candidate.text not in kept:
                kept[candidate.text] = candidate
            if len(kept) == self.settings.n_best:
                break
        entries = list(kept.values())
        if self.allows_no_answer and question.null is not None:
            entries = sorted([*entries, question.null], key=lambda c: -c.score)
        return entries


def check_windowing(row: dict, settings: SpanSettings) -> None:
    """Features must have been windowed with the task's settings (the feature cache is keyed on
    the maximum length, not on head_config)."""
    built = (int(row["doc_stride"]), int(row["max_query_length"]))
    wanted = (settings.doc_stride, settings.max_query_length)
    if built != wanted:
        raise DataError(
            f"the cached features were windowed with doc_stride {built[0]}, max_query_length {built[1]}, but the task "
            f"asks for doc_stride {wanted[0]}, max_query_length {wanted[1]}: delete the feature cache (OUTPUT_DIR/cache "
            f"or --cache-dir) or use another output directory")
