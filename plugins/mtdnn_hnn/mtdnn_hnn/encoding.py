"""A schema's encoder inputs: two token sequences per candidate.

* **masked-LM sequence**: the sentence with the candidate in place of the pronoun and every
  token of the candidate masked; the LM scorer reads the candidate's tokens back from those
  positions (``lm_positions``, ``lm_targets``).
* **similarity sequence**: ``[CLS] sentence [SEP] candidate [SEP]`` (as HNN builds it), with the
  pronoun's token positions in the sentence and the candidate's in the second segment. The
  candidate is appended rather than looked up in the sentence: 112 of the 570 WSC candidates
  are not written verbatim in their sentence ("the suitcase" for "the brown suitcase").

Positions come from the tokenizer's character offsets, so any fast tokenizer works (WordPiece,
BPE, SentencePiece). A sentence too long for ``max_len`` loses whole words at its far ends,
never the pronoun's or the candidate's.
"""
from __future__ import annotations

from typing import Any

from mtdnn_core.api import DataError, MtdnnError
from mtdnn_hnn.schema import PronounSchema

SEQUENCE_KEYS = ("input_ids", "token_type_ids", "segment_ids")


def encode_schema(schema: PronounSchema, tokenizer: Any, max_len: int) -> dict:
    """The feature of one schema (see :mod:`mtdnn_core.data.store` for what a feature may hold)."""
    start, end = schema.pronoun_start, schema.pronoun_end
    feature: dict[str, Any] = {"uid": schema.uid, "label": schema.label, "hypothesis": schema.hypothesis,
                               "targets": schema.targets(), "candidates": list(schema.candidates)}
    lm = [masked_candidate(tokenizer, schema.sentence, start, end, c, max_len, schema.where) for c in schema.candidates]
    sim = [candidate_pair(tokenizer, schema.sentence, start, end, c, max_len, schema.where) for c in schema.candidates]
    for prefix, sequences in (("lm", lm), ("sim", sim)):
        for key in SEQUENCE_KEYS:
            feature[f"{prefix}_{key}"] = [s[key] for s in sequences]
    feature["lm_positions"] = [s["positions"] for s in lm]
    feature["lm_targets"] = [s["targets"] for s in lm]
    feature["pronoun_positions"] = [s["pronoun_positions"] for s in sim]
    feature["candidate_positions"] = [s["candidate_positions"] for s in sim]
    return feature


def require_fast(tokenizer: Any) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise MtdnnError(f"HNN needs a fast tokenizer (character offsets); {type(tokenizer).__name__} is not one")
    if tokenizer.mask_token_id is None:
        raise MtdnnError(f"{type(tokenizer).__name__} has no mask token; the masked-LM scorer needs one")


def _tokens(tokenizer: Any, text: str, pair: str | None) -> Any:
    return tokenizer(text, pair, return_offsets_mapping=True, return_token_type_ids=True)


def _overlapping(enc: Any, sequence: int, start: int, end: int) -> list[int]:
    ids = enc.sequence_ids(0)
    return [i for i, (s, e) in enumerate(enc["offset_mapping"]) if ids[i] == sequence and e > s and s < end and e > start]


def _sequence(enc: Any) -> dict:
    return {"input_ids": list(enc["input_ids"]), "token_type_ids": list(enc["token_type_ids"]),
            "segment_ids": [-1 if s is None else s for s in enc.sequence_ids(0)]}


def masked_candidate(tokenizer: Any, sentence: str, start: int, end: int, candidate: str, max_len: int,
                     where: str) -> dict:
    """The masked-LM sequence of one candidate and the (position, token) pairs it must predict."""
    text = sentence[:start] + candidate + sentence[end:]
    text, (start, end) = fit_window(tokenizer, text, (start, start + len(candidate)), None, max_len, where)
    enc = _tokens(tokenizer, text, None)
    positions = _overlapping(enc, 0, start, end)
    offsets = enc["offset_mapping"]
    if not positions:
        raise DataError(f"{where}: candidate '{candidate}' has no tokens")
    if offsets[positions[0]][0] < start or offsets[positions[-1]][1] > end:
        raise DataError(f"{where}: candidate '{candidate}' in place of the pronoun shares a token with its "
                        f"neighbours ('{text[max(0, start - 3) : end + 3]}'), so its tokens cannot be masked alone")
    sequence = _sequence(enc)
    targets = [sequence["input_ids"][i] for i in positions]
    for i in positions:
        sequence["input_ids"][i] = tokenizer.mask_token_id
    return {**sequence, "positions": positions, "targets": targets}


def candidate_pair(tokenizer: Any, sentence: str, start: int, end: int, candidate: str, max_len: int,
                   where: str) -> dict:
    """``sentence`` + ``candidate`` as a pair, with the pronoun's and the candidate's positions."""
    sentence, (start, end) = fit_window(tokenizer, sentence, (start, end), candidate, max_len, where)
    enc = _tokens(tokenizer, sentence, candidate)
    pronoun = _overlapping(enc, 0, start, end)
    answer = _overlapping(enc, 1, 0, len(candidate))
    if not pronoun or not answer:
        raise DataError(f"{where}: the pronoun or candidate '{candidate}' has no tokens")
    return {**_sequence(enc), "pronoun_positions": pronoun, "candidate_positions": answer}


def fit_window(tokenizer: Any, text: str, span: tuple[int, int], pair: str | None, max_len: int,
               where: str) -> tuple[str, tuple[int, int]]:
    """``text`` cut to whole words around ``span`` until it (with ``pair``) fits ``max_len``
    tokens; returns the text and the span's new offsets. The far side loses a word first."""
    def length(candidate_text: str) -> int:
        return len(tokenizer(candidate_text, pair)["input_ids"])

    if length(text) <= max_len:
        return text, span
    words = []  # (start, end) of whitespace-separated words
    position = 0
    for word in text.split():
        position = text.index(word, position)
        words.append((position, position + len(word)))
        position += len(word)
    first = next(i for i, (s, e) in enumerate(words) if e > span[0])
    last = max(i for i, (s, e) in enumerate(words) if s < span[1])
    lo, hi = 0, len(words)
    while True:
        cut = text[words[lo][0] : words[hi - 1][1]]
        if length(cut) <= max_len:
            offset = words[lo][0]
            return cut, (span[0] - offset, span[1] - offset)
        left_room, right_room = first - lo, hi - 1 - last
        if left_room <= 0 and right_room <= 0:
            raise DataError(f"{where}: the pronoun's clause does not fit in {max_len} tokens; raise max_seq_len")
        if left_room >= right_room:
            lo += 1
        else:
            hi -= 1
