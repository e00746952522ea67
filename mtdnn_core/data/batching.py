"""Padding helpers for collating a batch; padding is per batch (to its longest row)."""
from __future__ import annotations

import numpy as np
import torch


def pad(rows, value: int, dtype=np.int64) -> torch.Tensor:
    """Rows of numbers (lists or arrays) as one right-padded tensor."""
    width = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), max(width, 1)), value, dtype=dtype)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return torch.from_numpy(out)


def pad_text(rows: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    """``input_ids``, ``attention_mask``, ``token_type_ids`` and ``segment_ids`` (0 first text,
    1 second, -1 special tokens and padding) of tokenized rows."""
    ids = [r["input_ids"] for r in rows]
    mask = np.zeros((len(ids), max(len(r) for r in ids)), dtype=np.int64)
    for i, r in enumerate(ids):
        mask[i, : len(r)] = 1
    return {
        "input_ids": pad(ids, pad_id),
        "attention_mask": torch.from_numpy(mask),
        "token_type_ids": pad([r["token_type_ids"] for r in rows], 0),
        "segment_ids": pad([r["segment_ids"] for r in rows], -1),
    }


def move_to(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
