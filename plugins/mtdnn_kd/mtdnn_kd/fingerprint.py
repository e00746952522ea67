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
