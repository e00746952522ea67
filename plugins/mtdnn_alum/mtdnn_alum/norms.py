"""Norms of a perturbation (per token or per sentence) and the ways of bounding it.

Two bounds exist because the original toolkit and the SMART paper differ: the toolkit rescales
the perturbation onto a sphere (``delta / (||delta|| + epsilon)``, so its size is set by the
normalisation and ``epsilon`` only keeps the division finite); the paper projects it into an
``epsilon``-ball. Both are here; :mod:`mtdnn_alum.adversary` chooses.
"""
from __future__ import annotations

import torch

TINY = 1e-30  # guards 0 / 0 only: ascent gradients can be ~1e-12 and must keep their direction


def norm_of(x: torch.Tensor, p: str, per_token: bool, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The ``p``-norm over the hidden dimension (per token) or over tokens and hidden (per
    sentence), with kept dimensions so that it broadcasts against ``x``."""
    if mask is not None:
        x = x * mask
    dims = (-1,) if per_token else tuple(range(1, x.dim()))
    if p == "inf":
        return x.abs().amax(dim=dims, keepdim=True)
    if p == "l2":
        return x.pow(2).sum(dim=dims, keepdim=True).sqrt()
    if p == "l1":
        return x.abs().sum(dim=dims, keepdim=True)
    raise ValueError(f"unknown norm '{p}'; use inf, l2 or l1")


def unit_size(p: str, per_token: bool, mask: torch.Tensor, width: int) -> torch.Tensor:
    """The ``p``-norm of a vector of ones over what one norm covers (the hidden width per token,
    or real tokens x width per sentence): 1 for inf, sqrt(n) for l2, n for l1. A size given in
    these units moves each coordinate by about the same amount whatever the norm, so the default
    sizes of the three norms perturb the model alike."""
    if per_token:
        n = torch.full_like(mask[..., :1], float(width))
    else:
        n = (mask.flatten(1).sum(1) * width).view(-1, *([1] * (mask.dim() - 1)))
    if p == "inf":
        return torch.ones_like(n)
    if p == "l2":
        return n.sqrt()
    if p == "l1":
        return n
    raise ValueError(f"unknown norm '{p}'; use inf, l2 or l1")


def normalize(x: torch.Tensor, p: str, per_token: bool, mask: torch.Tensor | None = None,
              epsilon: float = TINY) -> torch.Tensor:
    """``x / (||x||_p + epsilon)``: unit norm unless ``x`` is small against ``epsilon``; zero
    stays zero (padding) even with ``epsilon`` 0."""
    return x / (norm_of(x, p, per_token, mask) + epsilon).clamp_min(TINY)


def project(delta: torch.Tensor, p: str, radius: float | torch.Tensor, per_token: bool, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Bring ``delta`` into the ball of ``radius``: clipping for inf, rescaling for l2 and l1 (for
    l1 a point of the ball, not the Euclidean projection). Inside the ball it is unchanged."""
    if p == "inf":
        return delta.clamp(-radius, radius)
    norm = norm_of(delta, p, per_token, mask)
    return delta * torch.clamp(radius / (norm + TINY), max=1.0)


def steepest_ascent(grad: torch.Tensor, p: str, per_token: bool, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The unit-norm direction that increases a linear function fastest: sign for inf,
    ``g / ||g||_2`` for l2, and for l1 the coordinate(s) of largest ``|g|``."""
    if p == "inf":
        return grad.sign()
    if p == "l2":
        return normalize(grad, "l2", per_token, mask)
    peak = norm_of(grad, "inf", per_token, mask)
    return torch.where(grad.abs() >= peak, grad.sign(), torch.zeros_like(grad))


def ascent_step(grad: torch.Tensor, kind: str, p: str, per_token: bool, mask: torch.Tensor | None = None) -> torch.Tensor:
    """What one ascent step adds before it is multiplied by the step size.

    ``normalized``: ``g / ||g||_p`` (SMART paper, Algorithm 1); ``raw``: ``g`` itself (the original
    toolkit's code, where the step is then negligible against the starting noise); ``steepest``:
    :func:`steepest_ascent`.
    """
    if kind == "normalized":
        return normalize(grad, p, per_token, mask)
    if kind == "raw":
        return grad
    if kind == "steepest":
        return steepest_ascent(grad, p, per_token, mask)
    raise ValueError(f"unknown ascent '{kind}'; use normalized, raw or steepest")
