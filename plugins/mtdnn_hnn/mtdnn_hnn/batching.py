"""Collating schemas: every candidate's two sequences flattened into one encoder batch.

For ``K`` candidates in the batch the encoder sees ``2K`` rows: rows ``0..K-1`` are the
masked-LM sequences, rows ``K..2K-1`` the similarity sequences, both in candidate order
(schema by schema). Index tensors tell the head where each candidate's pieces are:

* ``candidate_mask`` ``[B, C]``: real candidates (schemas have different counts);
* ``mask_rows``, ``mask_positions``, ``mask_targets``, ``mask_slots``: one entry per masked
  token: its encoder row, position, the token to predict and its candidate slot ``b * C + c``;
* ``sim_rows`` ``[K]`` with ``pronoun_mask`` and ``span_mask`` ``[K, L]``: the similarity rows
  and where the pronoun's and the candidate's tokens are in them;
* ``targets`` ``[B, C]`` (1 right, 0 wrong, -1 unknown) and ``labels`` when every row has them.
"""
from __future__ import annotations

import torch

from mtdnn_core.api import pad_text

KEYS = ("input_ids", "token_type_ids", "segment_ids")


def _positions_mask(positions: list, width: int) -> torch.Tensor:
    mask = torch.zeros(len(positions), width, dtype=torch.bool)
    for i, cols in enumerate(positions):
        mask[i, torch.tensor([int(c) for c in cols], dtype=torch.long)] = True
    return mask


def collate_schemas(rows: list[dict], pad_id: int) -> dict:
    n_cand = max(len(r["candidates"]) for r in rows)
    candidate_mask = torch.zeros(len(rows), n_cand, dtype=torch.bool)
    lm, sim, pronouns, spans = [], [], [], []
    mask_rows, mask_positions, mask_targets, mask_slots = [], [], [], []
    for b, row in enumerate(rows):
        for c in range(len(row["candidates"])):
            candidate_mask[b, c] = True
            positions = [int(p) for p in row["lm_positions"][c]]
            mask_rows += [len(lm)] * len(positions)
            mask_positions += positions
            mask_targets += [int(t) for t in row["lm_targets"][c]]
            mask_slots += [b * n_cand + c] * len(positions)
            lm.append({k: row[f"lm_{k}"][c] for k in KEYS})
            sim.append({k: row[f"sim_{k}"][c] for k in KEYS})
            pronouns.append(row["pronoun_positions"][c])
            spans.append(row["candidate_positions"][c])
    text = pad_text(lm + sim, pad_id)
    width = text["input_ids"].shape[1]
    batch = {
        "uids": [r["uid"] for r in rows], **text, "candidate_mask": candidate_mask,
        "mask_rows": torch.tensor(mask_rows), "mask_positions": torch.tensor(mask_positions),
        "mask_targets": torch.tensor(mask_targets), "mask_slots": torch.tensor(mask_slots),
        "sim_rows": torch.arange(len(lm), 2 * len(lm)),
        "pronoun_mask": _positions_mask(pronouns, width), "span_mask": _positions_mask(spans, width),
    }
    if all(r.get("targets") is not None for r in rows):
        targets = torch.full((len(rows), n_cand), -1, dtype=torch.long)
        for b, row in enumerate(rows):
            targets[b, : len(row["targets"])] = torch.tensor([int(t) for t in row["targets"]], dtype=torch.long)
        batch["targets"] = targets
        batch["labels"] = torch.tensor([int(r["label"]) for r in rows])
    if "weight" in rows[0]:
        batch["weights"] = torch.tensor([float(r["weight"]) for r in rows], dtype=torch.float)
    return batch
