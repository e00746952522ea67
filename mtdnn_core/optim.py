"""Optimizers and learning-rate schedules.

Parameters are split into two groups: weight decay applies to weights, never to biases or to
normalization layers (LayerNorm, RMSNorm, ...). Schedules come from ``transformers.get_scheduler`` (linear warm-up from 0, then decay), so
they match the Hugging Face Trainer's step for step.
"""
from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: decayed weights and non-decayed biases / normalization parameters."""
    no_decay_ids = set()
    for module in model.modules():
        if "norm" in type(module).__name__.lower():
            no_decay_ids.update(id(p) for p in module.parameters(recurse=False))
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if id(param) in no_decay_ids or name.endswith("bias") or param.ndim < 2:
            no_decay.append(param)
        else:
            decay.append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


class AdamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = Field(default=1e-8, gt=0)


class AdamWConfig(AdamConfig):
    fused: bool | None = Field(default=None, description=(
        "torch's fused kernel (one pass over all parameters; skips a non-finite update on the device, so a "
        "training step needs no host read); default: on for CPU and CUDA parameters, as in the HF Trainer"))


class SGDConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    momentum: float = Field(default=0.9, ge=0)
    nesterov: bool = False


def adamw(params, lr: float, config: AdamWConfig | None = None, **options):
    """AdamW (decoupled weight decay)."""
    config = config or AdamWConfig(**options)
    fused = config.fused
    if fused is None:
        first = next((p for group in params for p in (group["params"] if isinstance(group, dict) else [group])), None)
        fused = first is not None and first.device.type in ("cpu", "cuda")
    return torch.optim.AdamW(params, lr=lr, betas=config.betas, eps=config.eps, fused=fused)


class DecoupledAdamax(torch.optim.Adamax):
    """Adamax with decoupled weight decay (as the original toolkit's default optimizer):
    ``p <- p * (1 - lr * wd)`` before the Adamax update, instead of adding ``wd * p`` to the
    gradient."""

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=0.0)
        for group in self.param_groups:
            group.setdefault("decoupled_decay", group.pop("weight_decay", 0.0))
            group["weight_decay"] = 0.0

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            decay = group.get("decoupled_decay", 0.0)
            if decay:
                for p in group["params"]:
                    if p.grad is not None:
                        p.mul_(1 - group["lr"] * decay)
        return super().step(closure)


def adamax(params, lr: float, config: AdamConfig | None = None, **options):
    """Adamax with decoupled weight decay (the original toolkit's default)."""
    config = config or AdamConfig(**options)
    return DecoupledAdamax(params, lr=lr, betas=config.betas, eps=config.eps)


def radam(params, lr: float, config: AdamConfig | None = None, **options):
    """RAdam (arXiv 1908.03265) with decoupled weight decay."""
    config = config or AdamConfig(**options)
    return torch.optim.RAdam(params, lr=lr, betas=config.betas, eps=config.eps, decoupled_weight_decay=True)


def sgd(params, lr: float, config: SGDConfig | None = None, **options):
    """SGD with momentum; weight decay is L2 added to the gradient."""
    config = config or SGDConfig(**options)
    return torch.optim.SGD(params, lr=lr, momentum=config.momentum, nesterov=config.nesterov)


def apex_fused_adam(params, lr: float, config: AdamConfig | None = None, **options):
    """NVIDIA apex FusedAdam (AdamW mode); registered only when apex is importable."""
    from apex.optimizers import FusedAdam

    config = config or AdamConfig(**options)
    return FusedAdam(params, lr=lr, betas=config.betas, eps=config.eps, adam_w_mode=True)


def apex_available() -> bool:
    try:
        import apex.optimizers  # noqa: F401
    except Exception:
        return False
    return True


def warmup_steps(warmup: float, total_steps: int) -> int:
    """``warmup`` < 1 is a fraction of the updates, otherwise a number of updates."""
    return int(round(warmup * total_steps)) if warmup < 1 else int(warmup)


class PolynomialConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    power: float = Field(default=1.0, gt=0)
    end_factor: float = Field(default=0.0, ge=0, le=1, description="final learning rate as a share of the peak")


def _hf_schedule(name: str, optimizer, warmup_steps: int, total_steps: int, **kwargs):
    """A schedule from ``transformers.get_scheduler``: the warm-up starts at 0 and reaches the peak
    after ``warmup_steps`` updates, exactly as the Hugging Face Trainer's."""
    from transformers import get_scheduler

    return get_scheduler(name, optimizer, num_warmup_steps=warmup_steps, num_training_steps=total_steps,
                         scheduler_specific_kwargs=kwargs or None)


def linear_schedule(optimizer, warmup_steps: int, total_steps: int):
    """Linear warm-up, then linear decay to zero."""
    return _hf_schedule("linear", optimizer, warmup_steps, total_steps)


def cosine_schedule(optimizer, warmup_steps: int, total_steps: int):
    """Linear warm-up, then half a cosine down to zero."""
    return _hf_schedule("cosine", optimizer, warmup_steps, total_steps)


def constant_schedule(optimizer, warmup_steps: int, total_steps: int):
    """Linear warm-up, then constant."""
    return _hf_schedule("constant_with_warmup", optimizer, warmup_steps, total_steps)


def polynomial_schedule(optimizer, warmup_steps: int, total_steps: int, config: PolynomialConfig | None = None,
                        **options):
    """Linear warm-up, then ``end + (peak - end) * (1 - progress) ** power`` with ``end =
    end_factor * peak``."""
    config = config or PolynomialConfig(**options)
    if config.end_factor >= 1:  # no decay at all (transformers refuses an end equal to the peak)
        return constant_schedule(optimizer, warmup_steps, total_steps)
    peak = optimizer.defaults["lr"]
    # transformers divides by (total - warmup): keep at least one decay step
    return _hf_schedule("polynomial", optimizer, warmup_steps, max(total_steps, warmup_steps + 1),
                        power=config.power, lr_end=config.end_factor * peak)
