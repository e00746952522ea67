"""Perturbing a model's hidden representation at a chosen place, and the norms that bound it.

A perturbation is added by a forward hook on one module: the word embeddings (before position
and type embeddings and LayerNorm: the SMART paper's place), the embedding layer's output, or
one transformer layer's output (ALUM's "chosen hidden layer"). The encoder then runs as usual,
so nothing is ever added twice.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

EPS = 1e-12


def target_module(encoder: nn.Module, where: str) -> nn.Module:
    """``word_embeddings``, ``embeddings`` or ``layer:N``."""
    if where == "word_embeddings":
        return encoder.get_input_embeddings()
    if where == "embeddings":
        module = getattr(encoder, "embeddings", None)
        if module is None:
            raise ValueError("this encoder has no 'embeddings' module; use where=word_embeddings")
        return module
    if where.startswith("layer:"):
        index = int(where.split(":", 1)[1])
        layers = [m for m in encoder.modules() if isinstance(m, nn.ModuleList)]
        if not layers or index >= len(layers[0]):
            raise ValueError(f"no layer {index} in this encoder")
        return layers[0][index]
    raise ValueError(f"unknown perturbation place '{where}'; use word_embeddings, embeddings or layer:N")


@contextlib.contextmanager
def perturbed(module: nn.Module, delta: torch.Tensor) -> Iterator[None]:
    """Add ``delta`` to ``module``'s output (first element if it returns a tuple) while inside."""

    def hook(_module, _inputs, output):
        if isinstance(output, tuple):
            return (output[0] + delta.to(output[0].dtype), *output[1:])
        return output + delta.to(output.dtype)

    handle = module.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def _norm(x: torch.Tensor, p: str, per_token: bool, mask: torch.Tensor | None) -> torch.Tensor:
    """Norm over the hidden dimension (per token) or over tokens and hidden (per sentence)."""
    if mask is not None:
        x = x * mask
    dims = (-1,) if per_token else tuple(range(1, x.dim()))
    if p == "inf":
        value = x.abs().amax(dim=dims, keepdim=True)
    elif p == "l2":
        value = x.pow(2).sum(dim=dims, keepdim=True).sqrt()
    elif p == "l1":
        value = x.abs().sum(dim=dims, keepdim=True)
    else:
        raise ValueError(f"unknown norm '{p}'")
    return value


def normalize(x: torch.Tensor, p: str, per_token: bool, mask: torch.Tensor | None = None) -> torch.Tensor:
    """``x / ||x||`` (the steepest-ascent direction's scale-free form)."""
    return x / (_norm(x, p, per_token, mask) + EPS)


def project(delta: torch.Tensor, p: str, epsilon: float, per_token: bool, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Bring ``delta`` into the ``epsilon``-ball of norm ``p``: clipping for inf, rescaling for l2
    and l1 (for l1 this is a point of the ball, not the Euclidean projection)."""
    if p == "inf":
        return delta.clamp(-epsilon, epsilon)
    norm = _norm(delta, p, per_token, mask)
    return delta * torch.clamp(epsilon / (norm + EPS), max=1.0)


def ascent_direction(grad: torch.Tensor, p: str, per_token: bool, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The steepest-ascent direction of unit ``p``-norm for a gradient: sign for inf,
    g/||g||_2 for l2, and for l1 the coordinate(s) of largest |g|."""
    if p == "inf":
        return grad.sign()
    if p == "l2":
        return normalize(grad, "l2", per_token, mask)
    dims = (-1,) if per_token else tuple(range(1, grad.dim()))
    peak = grad.abs().amax(dim=dims, keepdim=True)
    return torch.where(grad.abs() >= peak, grad.sign(), torch.zeros_like(grad))
