"""The adversarial perturbation shared by SMART, posterior differential regularization and
ALUM pre-training: Gaussian starting noise, K ascent steps on a divergence, then a bound.

Defaults follow what the original toolkit effectively does, measured rather than read off its
option names: the perturbation sits on the embedding layer's output and is rescaled after each
step to unit norm per token (``scale`` 1.0; the toolkit's ``epsilon`` only stabilises that
division). One change makes the ascent matter: the gradient is normalised before the step (the
SMART paper's Algorithm 1). The toolkit adds the raw gradient, which at a starting noise of 1e-5
is about 1e-5 times smaller than the noise, so its "adversarial" perturbation is the random
starting noise rescaled (``ascent: raw`` keeps that). The paper's form, projection into an
epsilon-ball, is ``mode: project`` with ``scale`` as the radius.

Sizes (``scale`` and ``step_size``) left at their defaults are in units of the norm of a
vector of ones (1 for inf, sqrt(width) for l2, width for l1, per token): a unit L1 norm per token
spreads over 384 coordinates of MiniLM and barely moves any of them, so a fixed 1.0 gave the l1
term about 1/1000 of the inf term's size and left its perturbation at the random start. A size
given explicitly is the norm itself.

Where the gradient vanishes (a token the prediction does not depend on, or a divergence that
underflows to 0 in float32), the step adds nothing and the perturbation stays the random start,
rescaled.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from mtdnn_alum.norms import ascent_step, norm_of, normalize, project, unit_size

DEFAULT_STEP = 1e-3  # in units of the norm of a vector of ones
from mtdnn_alum.perturb import check_place


class PerturbationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    where: str = Field(default="embeddings", description="embeddings (the layer's output), word_embeddings or layer:N")
    steps: int = Field(default=1, ge=0, description="K ascent steps (0: the random starting noise, bounded)")
    noise_std: float = Field(default=1e-5, ge=0, description="standard deviation of the Gaussian starting noise")
    ascent: Literal["normalized", "raw", "steepest"] = Field(
        default="normalized", description="step direction: g/||g|| (paper), g (original toolkit), sign-like steepest ascent")
    step_size: float | None = Field(default=None, gt=0, description="ascent step size (default: 1e-3 x the norm of a vector of ones)")
    mode: Literal["normalize", "project"] = Field(
        default="normalize", description="normalize: rescale to norm `scale` (original toolkit); project: into the ball of radius `scale` (paper)")
    scale: float | None = Field(default=None, gt=0, description="the perturbation's norm (normalize) or the ball's radius (project); "
                                "default: the norm of a vector of ones (1 for inf, sqrt(width) for l2, width for l1)")
    epsilon: float = Field(default=1e-6, ge=0, description="stabiliser of the normalisation: delta / (||delta|| + epsilon)")
    noise_draw: Literal["batch", "row"] = Field(
        default="batch", description="batch: the starting noise drawn for the batch from the process's generator; "
        "row: each row's from its own, keyed by the run's seed, the batch count and the row's uid, so that it does not "
        "depend on the batch's other rows, its padding or the torchrun rank (a CPU draw and a copy per batch)")
    norm: Literal["inf", "l2", "l1"] = "inf"
    granularity: Literal["token", "sentence"] = Field(default="token", description="the norm per token or per sentence")

    @field_validator("where")
    @classmethod
    def _known_place(cls, where: str) -> str:
        return check_place(where)


class AdversarialPerturbation:
    """Finds the perturbation of one batch; keeps the last batch's figures (detached tensors,
    read with :meth:`log_values`, so that training never waits on the device for them)."""

    def __init__(self, config: PerturbationConfig):
        self.config = config
        self.per_token = config.granularity == "token"
        self.last: dict[str, torch.Tensor] = {}

    def sizes(self, mask: torch.Tensor, width: int) -> tuple[torch.Tensor | float, torch.Tensor | float]:
        """The bound's size and the step size: as given, or the defaults in units of the norm."""
        c = self.config
        unit = unit_size(c.norm, self.per_token, mask, width) if c.scale is None or c.step_size is None else 1.0
        return (unit if c.scale is None else c.scale), (DEFAULT_STEP * unit if c.step_size is None else c.step_size)

    def bound(self, delta: torch.Tensor, mask: torch.Tensor, scale: torch.Tensor | float | None = None) -> torch.Tensor:
        c = self.config
        if scale is None:
            scale = self.sizes(mask.float(), delta.shape[-1])[0]
        if c.mode == "normalize":
            return scale * normalize(delta, c.norm, self.per_token, mask, c.epsilon) * mask
        return project(delta, c.norm, scale, self.per_token, mask) * mask

    def find(self, forward: Callable[[torch.Tensor], torch.Tensor], objective: Callable[[torch.Tensor], torch.Tensor],
             shape: tuple[int, ...], mask: torch.Tensor, keys: list[int] | None = None) -> torch.Tensor:
        """The perturbation (detached, float32) of the representation ``forward`` perturbs.

        ``forward(delta)`` returns the outputs with ``delta`` added; ``objective(outputs)`` the
        divergence to increase; ``mask`` ([..., tokens, 1]) is 1 on real tokens; ``keys``: one
        per row, seeding each row's noise with ``noise_draw: row``."""
        c = self.config
        mask = mask.float()
        scale, step_size = self.sizes(mask, shape[-1])
        if c.noise_draw == "row" and keys is not None:
            noise = row_noise(keys, shape, mask.device) * c.noise_std * mask
        else:
            noise = torch.randn(shape, device=mask.device) * c.noise_std * mask
        delta = noise.clone() if c.steps else self.bound(noise, mask, scale)
        for step in range(c.steps):
            delta.requires_grad_(True)
            value = objective(forward(delta))
            (grad,) = torch.autograd.grad(value, delta)
            if step == 0:
                self.last["start_divergence"] = value.detach().float()
            direction = ascent_step(grad.float(), c.ascent, c.norm, self.per_token, mask)
            delta = self.bound(delta.detach() + step_size * direction, mask, scale)
        delta = delta.detach()
        self._record(delta, noise, mask)
        return delta

    def _record(self, delta: torch.Tensor, noise: torch.Tensor, mask: torch.Tensor) -> None:
        norms = norm_of(delta, self.config.norm, self.per_token, mask)
        units = mask.amax(dim=-1, keepdim=True) if self.per_token else mask.flatten(1).amax(1).view(norms.shape)
        self.last["perturbation_norm"] = (norms * units).sum() / units.sum().clamp_min(1)
        if self.config.steps and self.config.noise_std > 0:
            # 1: the ascent left the random start where it was; ~0: the gradient set the direction
            self.last["start_noise_cosine"] = torch.nn.functional.cosine_similarity(
                delta.flatten(), noise.flatten(), dim=0).abs()

    def log_values(self) -> dict[str, float]:
        return {key: float(value) for key, value in self.last.items()}


def row_noise(keys: list[int], shape: tuple[int, ...], device) -> torch.Tensor:
    """Standard normal noise of ``shape`` whose row ``i`` comes from a generator seeded by
    ``keys[i]``, filled position by position: a row's noise at a position does not depend on the
    batch's padded length (NumPy's generator draws in order, so a longer draw extends a shorter one)."""
    rows = [np.random.default_rng(key).standard_normal(int(np.prod(shape[1:])), dtype=np.float32) for key in keys]
    return torch.from_numpy(np.stack(rows).reshape(shape)).to(device)
