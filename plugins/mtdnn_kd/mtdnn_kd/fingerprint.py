"""Fingerprints of the token ids a teacher saw, so a student run can prove it feeds the same
inputs (same text, tokenizer and truncation) to the sample a soft label belongs to."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np


def input_fingerprint(sequences: Iterable) -> str:
    """A short hash of one sample's token-id sequences (one per text or per ranking candidate)."""
    digest = hashlib.sha1()
    for ids in sequences:
        arr = np.asarray(ids, dtype=np.int64)
        digest.update(np.int64(arr.size).tobytes())
        digest.update(arr.tobytes())
    return digest.hexdigest()[:16]


def batch_row_ids(batch: dict, row: int) -> np.ndarray:
    """The unpadded token ids of one row of a collated batch."""
    ids = batch["input_ids"][row]
    length = int(batch["attention_mask"][row].sum())
    return ids[:length].detach().cpu().numpy()


def tokenizer_identity(tokenizer) -> str:
    """A hash of what a tokenizer does to text: its serialized state without the truncation and
    padding settings, which the last call left behind (a checkpoint saves them as they were)."""
    import json

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        state = json.loads(backend.to_str())
        state.pop("truncation", None)
        state.pop("padding", None)
    else:
        state = sorted(tokenizer.get_vocab().items())
    text = f"{type(tokenizer).__name__}\n{json.dumps(state, sort_keys=True)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]
