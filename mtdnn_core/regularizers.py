"""Regularizers: extra loss terms computed around a training step.

The trainer computes the task loss, then asks every active regularizer for an extra term
(adversarial smoothness, distillation, proximal point, ...) and adds it before backward.
After each optimizer update it calls :meth:`Regularizer.after_update` (for EMA teachers).
"""
from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, Field

from mtdnn_core.config import TaskDef


class Regularizer:
    """Base class. Built as ``cls(registries=..., config=Config)`` (or with the config's fields as
    keyword arguments when ``__init__`` takes no ``config``): ``registries`` lets a regularizer
    look up losses (e.g. one a task definition names) by name.

    The trainer logs each term it returns (``reg_<name>`` in ``log.jsonl``); a regularizer may
    also offer ``log_values() -> dict`` with pieces of its last term (logged as
    ``reg_<name>_<key>``)."""

    def __call__(self, model: torch.nn.Module, task: TaskDef, batch: dict, logits: torch.Tensor,
                 loss: torch.Tensor) -> torch.Tensor | None:  # pragma: no cover
        raise NotImplementedError

    def after_update(self, model: torch.nn.Module) -> None:
        """Called after each optimizer update."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class L2SPConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alpha: float = Field(default=0.01, gt=0, description="weight of the squared distance to the starting encoder")


class L2SP(Regularizer):
    """L2-SP (Li et al., 2018): alpha * ||theta - theta_0||^2 over the encoder's weights, which
    keeps fine-tuning close to the pretrained starting point."""

    Config = L2SPConfig

    def __init__(self, registries=None, config: L2SPConfig | None = None):
        self.alpha = (config or L2SPConfig()).alpha
        self.start: dict[str, torch.Tensor] | None = None

    def __call__(self, model, task, batch, logits, loss):
        params = dict(model.encoder.named_parameters())
        if self.start is None:
            self.start = {k: p.detach().clone() for k, p in params.items() if p.requires_grad}
        return self.alpha * sum(((params[k] - v) ** 2).sum() for k, v in self.start.items())

    def state_dict(self) -> dict:
        return dict(self.start or {})

    def load_state_dict(self, state: dict) -> None:
        self.start = dict(state) or None
