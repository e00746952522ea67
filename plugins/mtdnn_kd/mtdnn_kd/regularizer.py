"""The ``kd`` regularizer: trains a task on ``alpha * kd_loss + (1 - alpha) * hard_loss``.

It declares ``replaces_task_loss``: the trainer hands it the task loss alone (the hard loss) and
the combination it returns takes that loss's place (logged as ``reg_kd``, its pieces as
``reg_kd_kd`` and ``reg_kd_hard``, and per task as ``reg_kd_kd_<task>`` and ``reg_kd_hard_<task>``,
since a distillation loss and a hard loss of different scales pull the shared encoder unequally).
A task's ``kd_alpha`` (task definition) replaces ``alpha`` for that task. The soft labels of every task are checked in ``setup``,
before training. Tasks without soft labels train on their labels alone; a sample without a soft label is an error unless
``allow_missing`` (then it trains on its label alone and is counted in the log).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from mtdnn_core.api import Regularizer
from mtdnn_kd.errors import SoftLabelError
from mtdnn_kd.kinds import SoftKind, kind_for
from mtdnn_kd.objectives import KD_ALPHA, KD_LOSS, distillation_loss, resolve_objective
from mtdnn_kd.soft_labels import MANIFEST, SoftLabels, task_problems


class KDConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    soft_labels: str = Field(description="a directory written by `mtdnn kd teach`")
    alpha: float = Field(default=0.5, ge=0, le=1, description=(
        "weight of the distillation loss (1 - alpha: the hard-label loss); a task's kd_alpha replaces it for that task"))
    loss: str | None = Field(default=None, description=(
        "distillation loss of every classification, ranking and sequence-labeling task: mse, kl or ce "
        "(default: each task's kd_loss; regression always distills with mse)"))
    allow_missing: bool = Field(default=False, description="samples without a soft label train on their label alone (counted)")
    check_inputs: bool = Field(default=True, description="refuse rows whose token ids differ from those the teachers saw")

    @field_validator("soft_labels")
    @classmethod
    def _has_manifest(cls, value: str) -> str:
        if not (Path(value) / MANIFEST).is_file():
            raise ValueError(f"{value} holds no {MANIFEST}; write one with `mtdnn kd teach`")
        return value


@dataclass
class TaskPlan:
    """What distilling one task needs, checked once on the task's first batch."""

    kind: SoftKind
    objective: str
    entries: dict[str, dict]
    task_type: Any
    hard_loss: Any
    alpha: float


class KnowledgeDistillation(Regularizer):
    """Distillation from soft labels (MT-DNN-KD): ``alpha * kd_loss + (1 - alpha) * hard loss``."""

    Config = KDConfig
    replaces_task_loss = True
    supports_compile = True  # its term is computed from the outputs: nothing runs inside the compiled encoder
    supports_distributed = True  # its term comes from the rank's rows and the trained model's outputs
    supports_fsdp = True  # and it reads no weight itself
    log_sums = ("missing",)

    def __init__(self, registries=None, config: KDConfig | None = None):
        if config is None:
            raise SoftLabelError("the kd regularizer needs params {soft_labels: DIR}")
        if registries is None:
            from mtdnn_core.api import PluginHost

            registries = PluginHost().registries
        self.config = config
        self.registries = registries
        self.soft = SoftLabels(config.soft_labels)
        self.plans: dict[str, TaskPlan | None] = {}
        self.missing: dict[str, int] = {}
        self._sums: dict[str, list[float]] = {}  # task -> [kd sum, hard sum, batches] since the last record

    def _alpha(self, task) -> float:
        given = KD_ALPHA.value(task)
        return self.config.alpha if given is None else float(given)

    def setup(self, context) -> None:
        """Checks the soft labels of every task of the run against its definition now."""
        for task in context.tasks.values():
            self.plan(task)

    def plan(self, task) -> TaskPlan | None:
        if task.name not in self.plans:
            record = self.soft.manifest.tasks.get(task.name)
            if record is None:
                self.plans[task.name] = None
            else:
                problems = task_problems(record, task, str(self.soft.directory / MANIFEST))
                if problems:
                    raise SoftLabelError("\n".join(problems))
                kind = kind_for(task.task_type)
                name = (self.config.loss if kind.discrete else None) or KD_LOSS.value(task)
                objective = resolve_objective(name, self.registries, task.name, kind.discrete)
                self.plans[task.name] = TaskPlan(
                    kind, objective, self.soft.entries(task.name, "train"),
                    self.registries.task_types.get(task.task_type).factory,
                    self.registries.losses.build(task.loss, task.loss_config),
                    self._alpha(task),
                )
        return self.plans[task.name]

    def __call__(self, model, task, batch, outputs, loss):
        plan = self.plan(task)
        if plan is None:
            return None
        uids = [str(u) for u in batch["uids"]]
        entries = [plan.entries.get(u) for u in uids]
        absent = [u for u, e in zip(uids, entries) if e is None]
        if absent:
            self._missing(task.name, absent)
            if len(absent) == len(uids):
                return None
        pairing = plan.kind.pair(outputs, batch, entries, self.config.check_inputs)
        weights = batch.get("weights")
        kd = distillation_loss(plan.objective, pairing, self.soft.temperature, weights)
        head = model.heads[task.name]
        if absent:  # the hard loss of the rows that have soft labels, and their share of the batch
            present = torch.tensor([e is not None for e in entries], dtype=torch.float, device=pairing.student.device)
            base = weights.float() if weights is not None else torch.ones_like(present)
            hard = plan.task_type.compute_loss(head, plan.hard_loss, outputs, {**batch, "weights": base * present})
            share = (base * present).sum() / base.sum().clamp_min(1e-12)
        else:
            hard, share = loss, 1.0  # the task loss it is handed is the hard loss of every row
        sums = self._sums.setdefault(task.name, [0.0, 0.0, 0])
        sums[0] = sums[0] + kd.detach().float()  # kept on the device: read when a log record asks
        sums[1] = sums[1] + torch.as_tensor(hard).detach().float()
        sums[2] += 1
        # rows with soft labels: alpha * kd + (1 - alpha) * hard; the others: their hard loss
        return loss + plan.alpha * share * (kd - hard)

    def _missing(self, task: str, uids: list[str]) -> None:
        if not self.config.allow_missing:
            shown = ", ".join(uids[:5]) + (" ..." if len(uids) > 5 else "")
            raise SoftLabelError(
                f"task '{task}': {len(uids)} sample(s) of this batch have no soft label in "
                f"{self.soft.directory} (uids {shown}); teach every training sample (same data and "
                f"--max-train-samples) or set allow_missing: true to train them on their labels alone"
            )
        if task not in self.missing:
            warnings.warn(f"kd: task '{task}' has training samples without soft labels (e.g. uid {uids[0]}); they train "
                          f"on their labels alone (counted as reg_kd_missing in log.jsonl)", RuntimeWarning, stacklevel=2)
        self.missing[task] = self.missing.get(task, 0) + len(uids)

    def log_values(self) -> dict:
        """Mean distillation and hard losses since the last record (over all batches, and per
        task when the run distills several), and samples missing so far."""
        values = {}
        batches = sum(n for _, _, n in self._sums.values())
        if batches:
            values = {"kd": float(sum(k for k, _, _ in self._sums.values())) / batches,
                      "hard": float(sum(h for _, h, _ in self._sums.values())) / batches}
            if sum(plan is not None for plan in self.plans.values()) > 1:
                for task, (kd, hard, n) in self._sums.items():
                    values[f"kd_{task}"], values[f"hard_{task}"] = float(kd) / n, float(hard) / n
        if self.config.allow_missing:
            values["missing"] = sum(self.missing.values())
        self._sums = {}
        return values
