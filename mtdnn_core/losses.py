"""Losses. Each is ``loss(logits, target, weights=None) -> scalar``; ``weights`` are optional
per-sample weights (a weighted mean over the batch)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mtdnn_core.data.formats import IGNORE_INDEX


def weighted_mean(per_sample: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    if weights is None:
        return per_sample.mean()
    weights = weights.to(per_sample.dtype)
    return (per_sample * weights).sum() / weights.sum().clamp_min(1e-12)


class Loss(nn.Module):
    """Base class for losses."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


class CrossEntropy(Loss):
    """Cross-entropy over classes."""

    def forward(self, logits, target, weights=None):
        return weighted_mean(F.cross_entropy(logits.float(), target, reduction="none"), weights)


class MeanSquaredError(Loss):
    """Mean squared error for regression."""

    def forward(self, logits, target, weights=None):
        return weighted_mean((logits.float().view(-1) - target.float().view(-1)) ** 2, weights)


class RankingCrossEntropy(Loss):
    """Softmax over each sample's candidates; target is the correct candidate's index."""

    def forward(self, logits, target, weights=None):
        return weighted_mean(F.cross_entropy(logits.float(), target, reduction="none"), weights)


class SequenceCrossEntropy(Loss):
    """Token-level cross-entropy; positions labelled -100 (padding, non-first sub-tokens) are ignored."""

    def forward(self, logits, target, weights=None):
        per_token = F.cross_entropy(logits.float().transpose(1, 2), target, ignore_index=IGNORE_INDEX, reduction="none")
        counted = (target != IGNORE_INDEX).float()
        per_sample = per_token.sum(1) / counted.sum(1).clamp_min(1)
        if weights is None:
            return per_token.sum() / counted.sum().clamp_min(1)
        return weighted_mean(per_sample, weights)

    def units(self, target, weights=None):
        """Labelled tokens (the mean is over them), or the weights' sum with per-sample weights."""
        return (target != IGNORE_INDEX).sum().float() if weights is None else weights.float().sum()


def kl_divergence(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """KL(p || q) over the last dimension from log-probabilities, safe on masked entries.

    Where ``p`` is 0 (``log_p`` is -inf: a padded ranking candidate) the term is 0, as in the
    definition; ``F.kl_div`` would compute ``0 * (-inf - -inf)`` = NaN there and NaN gradients.
    """
    masked = torch.isneginf(log_p)
    diff = torch.where(masked, torch.zeros_like(log_p), log_p - log_q.masked_fill(masked, 0.0))
    return (log_p.exp() * diff).sum(-1)


class KLDivergence(Loss):
    """KL(target || input) between the softmaxes of two logit tensors (distillation, adversarial)."""

    def forward(self, logits, target, weights=None):
        log_p = F.log_softmax(target.float(), dim=-1)
        log_q = F.log_softmax(logits.float(), dim=-1)
        return weighted_mean(kl_divergence(log_p, log_q), weights)


class SymmetricKL(Loss):
    """KL(p || q) + KL(q || p)."""

    def forward(self, logits, target, weights=None):
        log_p = F.log_softmax(target.float(), dim=-1)
        log_q = F.log_softmax(logits.float(), dim=-1)
        return weighted_mean(kl_divergence(log_p, log_q) + kl_divergence(log_q, log_p), weights)
