"""Turn a list of features into padded tensors; padding is per batch (to its longest row)."""
from __future__ import annotations

import torch

from mtdnn_core.data.formats import IGNORE_INDEX


def _pad(rows: list[list[int]], value: int, dtype=torch.long) -> torch.Tensor:
    width = max(len(r) for r in rows)
    out = torch.full((len(rows), width), value, dtype=dtype)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r, dtype=dtype)
    return out


def _encode_rows(rows: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    ids = [r["input_ids"] for r in rows]
    return {
        "input_ids": _pad(ids, pad_id),
        "attention_mask": _pad([[1] * len(r) for r in ids], 0),
        "token_type_ids": _pad([r["token_type_ids"] for r in rows], 0),
        "segment_ids": _pad([r["segment_ids"] for r in rows], -1),
    }


def collate(features: list[dict], task_type: str, pad_id: int = 0) -> dict[str, torch.Tensor | list]:
    """Batch features of one task. Ranking samples are flattened to ``[batch * candidates, len]``
    with ``candidate_mask`` marking real candidates (samples may have different counts)."""
    batch: dict[str, torch.Tensor | list] = {"uids": [f["uid"] for f in features]}
    labels = [f["label"] for f in features]
    if "candidates" in features[0]:
        n_cand = max(len(f["candidates"]) for f in features)
        rows, mask = [], torch.zeros(len(features), n_cand, dtype=torch.bool)
        for i, f in enumerate(features):
            mask[i, : len(f["candidates"])] = True
            filler = {"input_ids": [pad_id], "token_type_ids": [0], "segment_ids": [-1]}
            rows.extend(f["candidates"] + [filler] * (n_cand - len(f["candidates"])))
        batch.update(_encode_rows(rows, pad_id))
        batch["candidate_mask"] = mask
    else:
        batch.update(_encode_rows(features, pad_id))
    if all(label is not None for label in labels):
        if task_type == "Regression":
            batch["labels"] = torch.tensor(labels, dtype=torch.float)
        elif task_type == "SequenceLabeling":
            batch["labels"] = _pad(labels, IGNORE_INDEX)
        else:
            batch["labels"] = torch.tensor(labels, dtype=torch.long)
    if "word_ids" in features[0]:
        batch["word_ids"] = _pad([f["word_ids"] for f in features], -1)
    if "weight" in features[0]:
        batch["weights"] = torch.tensor([f["weight"] for f in features], dtype=torch.float)
    return batch


def move_to(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
