"""Questions and contexts as overlapping token windows, with the answer's tokens in each window.

The fast tokenizer does the windowing (``return_overflowing_tokens`` with ``stride`` tokens
shared between windows, the context truncated, the question kept whole) and reports each
token's character offsets, so answers map to tokens and predicted tokens back to the exact
original text (accents, odd whitespace and all). A window's label is the first and last token
of the answer when the whole answer lies inside it, else the CLS position, which also stands
for "no answer".
"""
from __future__ import annotations

import warnings
from typing import Any

from mtdnn_core.api import DataError
from mtdnn_squad.reader import Answer, SquadExample
from mtdnn_squad.settings import SpanSettings

NOT_CONTEXT = -1


def cut_questions(questions: list[str], tokenizer: Any, max_tokens: int) -> list[str]:
    """Each question (leading whitespace stripped) cut after its ``max_tokens``-th token."""
    questions = [q.lstrip() for q in questions]
    encoded = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    out = []
    for question, offsets in zip(questions, encoded["offset_mapping"]):
        out.append(question[: offsets[max_tokens - 1][1]] if len(offsets) > max_tokens else question)
    return out


def answer_tokens(starts: list[int], ends: list[int], answer: Answer) -> tuple[int, int] | None:
    """First and last context token of ``answer`` in a window whose context tokens span the
    characters ``starts[i]:ends[i]`` (``NOT_CONTEXT`` elsewhere); ``None`` when the answer is not
    wholly inside the window. First > last means no token covers the answer's characters."""
    context = [i for i, s in enumerate(starts) if s != NOT_CONTEXT]
    if not context or starts[context[0]] > answer.start or ends[context[-1]] < answer.end:
        return None
    first = next((i for i in context if ends[i] > answer.start), context[-1] + 1)
    last = next((i for i in reversed(context) if starts[i] < answer.end), context[0] - 1)
    return first, last


def encode_windows(examples: list[SquadExample], tokenizer: Any, max_len: int, settings: SpanSettings) -> list[dict]:
    """One feature per window; windows of a question are consecutive and share its uid. The
    first window also carries the context and the gold answers, for decoding and scoring."""
    if not getattr(tokenizer, "is_fast", False):
        raise DataError("span tasks need a fast tokenizer (character offsets); this encoder's tokenizer is not one")
    questions = cut_questions([e.question for e in examples], tokenizer, settings.max_query_length)
    _check_room(examples, questions, tokenizer, max_len, settings)
    encoded = tokenizer(questions, [e.context for e in examples], truncation="only_second", max_length=max_len,
                        stride=settings.doc_stride, return_overflowing_tokens=True, return_offsets_mapping=True,
                        return_token_type_ids=True)
    features, window, previous, unrepresentable = [], 0, -1, []
    for i, owner in enumerate(encoded["overflow_to_sample_mapping"]):
        example = examples[owner]
        window = window + 1 if owner == previous else 0
        previous = owner
        sequence = encoded.sequence_ids(i)
        input_ids = encoded["input_ids"][i]
        starts = [s if sid == 1 else NOT_CONTEXT for (s, _), sid in zip(encoded["offset_mapping"][i], sequence)]
        ends = [e if sid == 1 else NOT_CONTEXT for (_, e), sid in zip(encoded["offset_mapping"][i], sequence)]
        cls = input_ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in input_ids else 0
        label = None
        if example.labeled:
            span = answer_tokens(starts, ends, example.answers[0]) if example.answers else None
            if span is not None and span[0] > span[1]:
                unrepresentable.append(example.uid)
                span = None
            label = list(span) if span is not None else [cls, cls]
        feature = {
            "uid": example.uid, "input_ids": input_ids, "token_type_ids": encoded["token_type_ids"][i],
            "segment_ids": [-1 if sid is None else sid for sid in sequence], "offset_starts": starts,
            "offset_ends": ends, "cls_index": cls, "label": label, "window": window,
            "doc_stride": settings.doc_stride, "max_query_length": settings.max_query_length,
        }
        if window == 0:
            feature["context"] = example.context
            feature["gold"] = {"answers": [a.text for a in example.answers]} if example.labeled else None
        features.append(feature)
    if unrepresentable:
        warnings.warn(f"{len(unrepresentable)} answer(s) cover no token of the tokenizer (e.g. question "
                      f"{unrepresentable[0]}); their windows are labelled 'no answer'", stacklevel=2)
    return features


def _check_room(examples: list[SquadExample], questions: list[str], tokenizer: Any, max_len: int,
                settings: SpanSettings) -> None:
    """The context room of a window (max length - question - special tokens) must exceed the stride."""
    specials = tokenizer.num_special_tokens_to_add(pair=True)
    lengths = [len(ids) for ids in tokenizer(questions, add_special_tokens=False)["input_ids"]]
    worst = max(range(len(questions)), key=lambda i: lengths[i])
    room = max_len - specials - lengths[worst]
    if room <= settings.doc_stride:
        raise DataError(
            f"question {examples[worst].uid}: a window of {max_len} tokens leaves {room} token(s) of context "
            f"after the question ({lengths[worst]} tokens) and {specials} special tokens, not more than "
            f"doc_stride {settings.doc_stride}: raise max_seq_len (e.g. --max-seq-len 384 or `max_seq_len: 384` in "
            f"the task definition), or lower doc_stride / max_query_length in head_config")
