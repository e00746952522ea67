"""Soft targets over classes (classification) and over a sample's candidates (ranking): the
teachers' probabilities at temperature T, averaged, and their mean logits."""
from __future__ import annotations

import numpy as np
import torch

from mtdnn_kd.errors import SoftLabelError
from mtdnn_kd.kinds import Pairing, SoftKind, check_input, read_distribution, read_numbers


class ClassCollector:
    """One teacher's class probabilities (softmax of logits / T) and raw logits per uid."""

    def __init__(self, temperature: float):
        self.temperature = temperature
        self.targets: dict[str, dict] = {}

    def add(self, rows: list[dict], outputs: torch.Tensor) -> None:
        logits = outputs.detach().float().cpu()
        probs = torch.softmax(logits / self.temperature, dim=-1)
        for i, row in enumerate(rows):
            n = self.width(row, logits.shape[-1])
            self.targets[str(row["uid"])] = {"soft": probs[i, :n].numpy(), "logits": logits[i, :n].numpy()}

    def width(self, row: dict, n: int) -> int:
        return n


class ClassKind(SoftKind):
    task_type = "classification"

    def collector(self, temperature):
        return ClassCollector(temperature)

    def average(self, targets):
        return {key: np.mean([t[key] for t in targets], axis=0) for key in ("soft", "logits")}

    def predictions(self, targets):
        return [int(np.argmax(t["soft"])) for t in targets]

    def ensemble_output(self, reference, averaged):
        targets = [averaged[str(uid)] for uid in reference["uids"]]
        return {"uids": list(reference["uids"]), "predictions": self.predictions(targets),
                "scores": [t["soft"].tolist() for t in targets], "golds": list(reference["golds"])}

    def from_json(self, entry, where):
        return {"soft": read_distribution(entry, 1, where), "logits": read_numbers(entry, "logits", 1, where, required=False)}

    def pair(self, outputs, batch, entries, check_inputs):
        present = [i for i, e in enumerate(entries) if e is not None]
        student = outputs.float()[present]
        width = student.shape[-1]
        for i in present:
            if check_inputs:
                check_input(entries[i], batch, i, batch["uids"][i])
            if len(entries[i]["soft"]) != width:
                raise SoftLabelError(f"uid {batch['uids'][i]}: {len(entries[i]['soft'])} soft probabilities for a "
                                     f"head with {width} outputs (the labels changed since the teachers were trained)")
        soft = _stack([entries[i]["soft"] for i in present], student)
        has_logits = all(entries[i]["logits"] is not None for i in present)
        logits = _stack([entries[i]["logits"] for i in present], student) if has_logits else None
        sample = torch.tensor(present, dtype=torch.long, device=student.device)
        return Pairing(student, soft, logits, None, sample)


class CandidateCollector(ClassCollector):
    """Ranking: probabilities over a sample's real candidates (padded ones score -inf)."""

    def width(self, row, n):
        return len(row["input_ids"])


class CandidateKind(ClassKind):
    task_type = "ranking"

    def collector(self, temperature):
        return CandidateCollector(temperature)

    def input_record(self, row):
        from mtdnn_kd.fingerprint import input_fingerprint

        return "input", input_fingerprint(row["input_ids"])

    def pair(self, outputs, batch, entries, check_inputs):
        from mtdnn_kd.fingerprint import batch_row_ids, input_fingerprint
        from mtdnn_kd.kinds import compare_fingerprint

        mask = batch["candidate_mask"]
        n_cand = mask.shape[1]
        present = [i for i, e in enumerate(entries) if e is not None]
        student = outputs.float()[present]
        soft = torch.zeros(len(present), n_cand, device=student.device)
        logits = torch.zeros_like(soft)
        has_logits = all(entries[i]["logits"] is not None for i in present)
        for k, i in enumerate(present):
            entry, real = entries[i], int(mask[i].sum())
            if len(entry["soft"]) != real:
                raise SoftLabelError(f"uid {batch['uids'][i]}: soft labels for {len(entry['soft'])} candidates, "
                                     f"the sample has {real}")
            if check_inputs:
                seen = input_fingerprint(batch_row_ids(batch, i * n_cand + c) for c in range(real))
                compare_fingerprint(entry, seen, batch["uids"][i])
            soft[k, :real] = torch.as_tensor(entry["soft"], device=student.device)
            if has_logits:
                logits[k, :real] = torch.as_tensor(entry["logits"], device=student.device)
        sample = torch.tensor(present, dtype=torch.long, device=student.device)
        return Pairing(student, soft, logits if has_logits else None, mask[present], sample)


def _stack(arrays: list[np.ndarray], like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(np.stack(arrays), dtype=torch.float32, device=like.device)
