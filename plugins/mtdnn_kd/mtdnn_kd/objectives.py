"""Distillation losses between a student's outputs and the ensemble's soft targets.

The task definition's ``kd_loss`` names the loss (the original toolkit's default is ``mse``,
``MseCriterion``); mtdnn-kd gives the names these meanings:

* ``mse``: logit matching. The squared difference between the student's logits and the teachers'
  mean logits, both centred per sample (softmax ignores a constant shift, so the match should
  too), averaged over classes. It is the high-temperature limit of distillation (Hinton et al.,
  2015, section 2.1) and needs no temperature. Regression: the squared difference between the
  student's value and the teachers' mean value.
* ``kl``: ``T^2 * KL(soft || softmax(student / T))``; the T^2 keeps gradients comparable across
  temperatures (Hinton et al.).
* ``ce``: ``T^2 * -sum soft * log softmax(student / T)``, the soft cross-entropy of MT-DNN-KD
  (Liu et al., 2019); the same gradient as ``kl``, larger by the soft labels' entropy.

Each position's loss (a row, or a word for sequence labeling) is averaged over the batch; with
per-sample weights, each sample's positions are averaged first and samples weighted.
"""
from __future__ import annotations

from typing import Annotated, Any

import torch
import torch.nn.functional as F
from pydantic import Field

from mtdnn_core.api import TaskDefField, kl_divergence, weighted_mean
from mtdnn_kd.errors import SoftLabelError
from mtdnn_kd.kinds import Pairing

DISTRIBUTION_LOSSES = ("mse", "kl", "ce")
VALUE_LOSSES = ("mse",)

#: the ``kd_loss`` key of task definitions, declared through ``register_task_def_fields``
KD_LOSS = TaskDefField("kd_loss", type=str, names="losses", default="mse",
                       description="the distillation loss of the task (mse, kl, ce); default mse")

#: the ``kd_alpha`` key of task definitions: the task's own weight of the distillation loss, so one
#: run can distill some tasks more than others (0: the task trains on its labels alone)
KD_ALPHA = TaskDefField("kd_alpha", type=Annotated[float, Field(ge=0, le=1)], default=None,
                        description="the task's distillation weight alpha in [0, 1]; default the kd regularizer's alpha")


def resolve_objective(name: str, registries: Any, task: str, discrete: bool) -> str:
    """The canonical name of a ``kd_loss`` (aliases such as ``MseCriterion`` allowed), refused
    when mtdnn-kd has no distillation meaning for it."""
    canonical = registries.losses.get(name).name
    allowed = DISTRIBUTION_LOSSES if discrete else VALUE_LOSSES
    if canonical not in allowed:
        kind = "classification, ranking and sequence-labeling" if discrete else "regression"
        raise SoftLabelError(f"task '{task}': kd_loss '{name}' has no distillation meaning for {kind} tasks; use one of "
                             f"{', '.join(allowed)} (task_overrides: {{{task}: {{kd_loss: ...}}}} or the kd "
                             f"regularizer's `loss`)")
    return canonical


def position_losses(objective: str, pairing: Pairing, temperature: float) -> torch.Tensor:
    """The distillation loss of every position, ``[P]``."""
    student = pairing.student.float()
    if student.dim() == 1:  # values
        return (student - pairing.soft.float()) ** 2
    valid = pairing.valid if pairing.valid is not None else torch.ones_like(student, dtype=torch.bool)
    if objective == "mse":
        if pairing.logits is None:
            raise SoftLabelError("kd_loss mse matches logits, but these soft labels carry none ('logits'); "
                                 "use kd_loss kl or ce, or rerun `mtdnn kd teach`")
        count = valid.sum(-1).clamp_min(1)
        diff = _centred(student, valid, count) - _centred(pairing.logits.float(), valid, count)
        return (diff ** 2).sum(-1) / count
    soft = pairing.soft.float().masked_fill(~valid, 0.0)
    log_q = F.log_softmax((student / temperature).masked_fill(~valid, float("-inf")), dim=-1)
    if objective == "kl":
        return kl_divergence(torch.log(soft), log_q) * temperature ** 2
    if objective == "ce":
        return -(soft * log_q.masked_fill(soft <= 0, 0.0)).sum(-1) * temperature ** 2
    raise SoftLabelError(f"unknown distillation objective '{objective}'")  # resolve_objective refuses it first


def _centred(values: torch.Tensor, valid: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    values = values.masked_fill(~valid, 0.0)
    mean = values.sum(-1, keepdim=True) / count.unsqueeze(-1)
    return (values - mean).masked_fill(~valid, 0.0)


def distillation_loss(objective: str, pairing: Pairing, temperature: float,
                      weights: torch.Tensor | None = None) -> torch.Tensor:
    """The batch's distillation loss: the mean over positions, or with per-sample ``weights``
    the weighted mean of each sample's mean."""
    per_position = position_losses(objective, pairing, temperature)
    if per_position.numel() == 0:
        return pairing.student.sum() * 0.0
    if weights is None:
        return per_position.mean()
    n_rows = int(weights.shape[0])
    sums = torch.zeros(n_rows, device=per_position.device).index_add(0, pairing.sample, per_position)
    counts = torch.zeros(n_rows, device=per_position.device).index_add(0, pairing.sample, torch.ones_like(per_position))
    rows = counts > 0
    return weighted_mean(sums[rows] / counts[rows], weights[rows])
