"""Soft targets of sequence labeling: a tag distribution per word.

Targets are kept per word of the whole sentence, not per window, so they do not depend on how a
long sentence was cut. A teacher's distribution for a word comes from the window in which the
word sits farthest from an edge (the rule the core's word stitcher uses for predictions). A
student row finds its window's first word by the fingerprint of its token ids (batches carry
word ids local to the window, not the window's offset).
"""
from __future__ import annotations

import numpy as np
import torch

from mtdnn_kd.errors import SoftLabelError
from mtdnn_kd.kinds import Pairing, SoftKind, mismatch_message, read_distribution, read_numbers


def first_subtokens(word_ids) -> list[tuple[int, int]]:
    """(position, window-local word index) of each word's first sub-token."""
    ids = [int(w) for w in word_ids]
    return [(pos, w) for pos, w in enumerate(ids) if w >= 0 and (pos == 0 or ids[pos - 1] != w)]


class TagCollector:
    """One teacher's per-word tag probabilities (softmax of logits / T) and logits per uid."""

    def __init__(self, temperature: float):
        self.temperature = temperature
        self.best: dict[str, dict] = {}

    def add(self, rows, outputs):
        logits = outputs.detach().float().cpu()
        probs = torch.softmax(logits / self.temperature, dim=-1)
        for i, row in enumerate(rows):
            sentence = self.best.setdefault(str(row["uid"]), {"n": int(row["n_words"]), "words": {}})
            local = first_subtokens(row["word_ids"])
            if not local:
                continue
            span, offset = local[-1][1], int(row["word_offset"])
            for pos, w in local:
                centrality = min(w, span - w)
                kept = sentence["words"].get(offset + w)
                if kept is None or centrality > kept[0]:
                    sentence["words"][offset + w] = (centrality, probs[i, pos].numpy(), logits[i, pos].numpy())

    @property
    def targets(self) -> dict[str, dict]:
        out = {}
        for uid, sentence in self.best.items():
            n_tags = len(next(iter(sentence["words"].values()))[1]) if sentence["words"] else 1
            # a word the tokenizer dropped has no position to train: uniform, zero logits
            soft = np.full((sentence["n"], n_tags), 1.0 / n_tags)
            logits = np.zeros((sentence["n"], n_tags))
            for index, (_, p, z) in sentence["words"].items():
                soft[index], logits[index] = p, z
            out[uid] = {"soft": soft, "logits": logits}
        return out


class TagKind(SoftKind):
    task_type = "sequence_labeling"

    def collector(self, temperature):
        return TagCollector(temperature)

    def average(self, targets):
        return {key: np.mean([t[key] for t in targets], axis=0) for key in ("soft", "logits")}

    def predictions(self, targets):
        return [int(k) for t in targets for k in np.argmax(t["soft"], axis=-1)]

    def ensemble_output(self, reference, averaged):
        preds = [np.argmax(averaged[str(uid)]["soft"], axis=-1).tolist() for uid in reference["uids"]]
        return {**reference, "predictions": preds, "scores": []}

    def gold(self, row):
        return row.get("word_labels")

    def input_record(self, row):
        from mtdnn_kd.fingerprint import input_fingerprint

        return "windows", [int(row["word_offset"]), input_fingerprint([row["input_ids"]])]

    def from_json(self, entry, where):
        return {"soft": read_distribution(entry, 2, where), "logits": read_numbers(entry, "logits", 2, where, required=False)}

    def offset(self, entry: dict, batch: dict, row: int, check_inputs: bool) -> int:
        """The first word of the window a batch row holds."""
        from mtdnn_kd.fingerprint import batch_row_ids, input_fingerprint

        windows = entry.get("windows") or []
        seen = input_fingerprint([batch_row_ids(batch, row)])
        for offset, fingerprint in windows:
            if fingerprint == seen:
                return int(offset)
        if not check_inputs and len(windows) <= 1:
            return 0
        uid = batch["uids"][row]
        if not check_inputs:
            raise SoftLabelError(f"uid {uid}: the sentence was cut into {len(windows)} windows and this row matches "
                                 f"none of them; windows can only be told apart with the teachers' tokenizer and "
                                 f"--max-seq-len")
        raise SoftLabelError(mismatch_message(uid))

    def pair(self, outputs, batch, entries, check_inputs):
        word_ids = batch["word_ids"].detach().cpu().numpy()
        rows, positions, soft, logits = [], [], [], []
        has_logits = all(e["logits"] is not None for e in entries if e is not None)
        for i, entry in enumerate(entries):
            if entry is None:
                continue
            offset = self.offset(entry, batch, i, check_inputs)
            n_words = len(entry["soft"])
            for pos, w in first_subtokens(word_ids[i]):
                if offset + w >= n_words:
                    raise SoftLabelError(f"uid {batch['uids'][i]}: word {offset + w} but the soft labels cover "
                                         f"{n_words} words")
                rows.append(i)
                positions.append(pos)
                soft.append(entry["soft"][offset + w])
                if has_logits:
                    logits.append(entry["logits"][offset + w])
        device = outputs.device
        n_tags = outputs.shape[-1]
        if soft and len(soft[0]) != n_tags:
            raise SoftLabelError(f"{len(soft[0])} soft probabilities per word for a head with {n_tags} tags "
                                 f"(the tag set changed since the teachers were trained)")
        index = torch.tensor(rows, dtype=torch.long, device=device)
        student = outputs.float()[index, torch.tensor(positions, dtype=torch.long, device=device)]
        soft_t = torch.as_tensor(np.asarray(soft, dtype=np.float32).reshape(-1, n_tags), device=device)
        logits_t = torch.as_tensor(np.asarray(logits, dtype=np.float32).reshape(-1, n_tags), device=device) if has_logits else None
        return Pairing(student, soft_t, logits_t, None, index)
