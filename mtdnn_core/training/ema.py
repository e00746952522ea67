"""An exponential moving average of the model's weights, used for evaluation (``--ema-decay``).

After every optimizer update ``ema = decay * ema + (1 - decay) * weights`` (the average starts at
the weights after the first update). Evaluation, the best-checkpoint choice and ``mtdnn predict``
use the averaged weights; training continues on the raw ones. Built on PyTorch's
``AveragedModel`` (``torch.optim.swa_utils``), which keeps a copy of the model. Checkpoints
store the average as ``ema.safetensors`` beside ``model.safetensors``.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

EMA_FILE = "ema.safetensors"


class WeightAverage:
    """The averaged copy of ``model`` and its bookkeeping."""

    def __init__(self, model: nn.Module, decay: float):
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        if not 0 < decay < 1:
            raise ValueError(f"EMA decay must lie in (0, 1), got {decay}")
        self.decay = decay
        self.averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=False)
        self.averaged.eval()

    @property
    def model(self) -> nn.Module:
        """The averaged model (same class and heads as the trained one)."""
        return self.averaged.module

    @property
    def updates(self) -> int:
        return int(self.averaged.n_averaged)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.averaged.update_parameters(model)

    def save(self, path: Path) -> None:
        from safetensors.torch import save_model

        save_model(self.model, str(path))

    def load(self, path: Path, updates: int) -> None:
        from safetensors.torch import load_model

        load_model(self.model, str(path), strict=True)
        self.averaged.n_averaged.fill_(updates)
