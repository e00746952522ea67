"""Soft targets of regression: the teachers' mean prediction."""
from __future__ import annotations

import math

import numpy as np
import torch

from mtdnn_kd.errors import SoftLabelError
from mtdnn_kd.kinds import Pairing, SoftKind, check_input


class ValueCollector:
    def __init__(self, temperature: float):
        self.targets: dict[str, dict] = {}

    def add(self, rows, outputs):
        values = outputs.detach().float().cpu().view(-1)
        for i, row in enumerate(rows):
            self.targets[str(row["uid"])] = {"soft": float(values[i])}


class ValueKind(SoftKind):
    task_type = "regression"
    discrete = False

    def collector(self, temperature):
        return ValueCollector(temperature)

    def average(self, targets):
        return {"soft": float(np.mean([t["soft"] for t in targets]))}

    def predictions(self, targets):
        return [t["soft"] for t in targets]

    def ensemble_output(self, reference, averaged):
        values = [averaged[str(uid)]["soft"] for uid in reference["uids"]]
        return {"uids": list(reference["uids"]), "predictions": values, "scores": list(values),
                "golds": list(reference["golds"])}

    def from_json(self, entry, where):
        value = entry.get("soft")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise SoftLabelError(f"{where}: 'soft' must be a finite number for a regression task")
        return {"soft": float(value)}

    def pair(self, outputs, batch, entries, check_inputs):
        present = [i for i, e in enumerate(entries) if e is not None]
        if check_inputs:
            for i in present:
                check_input(entries[i], batch, i, batch["uids"][i])
        student = outputs.float().view(-1)[present]
        soft = torch.tensor([entries[i]["soft"] for i in present], dtype=torch.float32, device=student.device)
        sample = torch.tensor(present, dtype=torch.long, device=student.device)
        return Pairing(student, soft, None, None, sample)
