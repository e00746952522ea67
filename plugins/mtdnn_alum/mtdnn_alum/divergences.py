"""f-divergences between the class distributions of two logit tensors, as losses.

Every divergence is ``D(target || input)`` computed from log-probabilities in float32 (so
bf16/fp16 logits are safe), averaged over the batch (optionally weighted per sample), with a
gradient everywhere (squared Hellinger included). ``detach_target`` stops the gradient through
the target distribution, as SMART's "stable" formulation does for each direction.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from mtdnn_core.api import Loss, kl_divergence, weighted_mean


LOG_ZERO = -1e4  # exp(-1e4) is exactly 0 in float32


def _log_probs(logits: torch.Tensor) -> torch.Tensor:
    """Log-probabilities with -inf (a masked class, e.g. a padded ranking candidate) raised to a
    finite log-zero: every divergence below then gives that class 0 with finite gradients, where
    -inf - -inf would make NaN (and NaN gradients) in JS, chi-square and KL."""
    return F.log_softmax(logits.float(), dim=-1).clamp(min=LOG_ZERO)


def kl(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """KL(p || q) per sample; classes with p = 0 (e.g. padded ranking candidates) contribute 0,
    with finite gradients: the core's one implementation."""
    return kl_divergence(log_p, log_q)


def js(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    log_m = torch.logaddexp(log_p, log_q) - math.log(2.0)
    return 0.5 * kl(log_p, log_m) + 0.5 * kl(log_q, log_m)


def squared_hellinger(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """H^2 = 1 - sum sqrt(p q) (in [0, 1]); written with exp(log/2) so the gradient exists at p = q."""
    return 1.0 - torch.exp(0.5 * (log_p + log_q)).sum(-1)


def chi_square(log_p: torch.Tensor, log_q: torch.Tensor, cap: float = 1e4) -> torch.Tensor:
    """Pearson chi^2(p || q) = sum p^2 / q - 1; the ratio is capped for stability."""
    return torch.exp((2 * log_p - log_q).clamp(max=math.log(cap))).sum(-1) - 1.0


def total_variation(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    return 0.5 * (log_p.exp() - log_q.exp()).abs().sum(-1)


class Divergence(Loss):
    """Base: ``forward(input_logits, target_logits, weights)``."""

    def __init__(self, detach_target: bool = False):
        super().__init__()
        self.detach_target = detach_target

    def per_sample(self, log_input: torch.Tensor, log_target: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def forward(self, logits, target, weights=None):
        log_q = _log_probs(logits)
        log_p = _log_probs(target.detach() if self.detach_target else target)
        return weighted_mean(self.per_sample(log_q, log_p).reshape(-1), weights)


class ReverseKL(Divergence):
    """KL(input || target)."""

    def per_sample(self, log_q, log_p):
        return kl(log_q, log_p)


class StableSymmetricKL(Divergence):
    """KL(p || q) + KL(q || p), each direction with its reference distribution detached (SMART's
    noise-stable form): the gradient pulls each side towards the other's current value."""

    def forward(self, logits, target, weights=None):
        log_q, log_p = _log_probs(logits), _log_probs(target)
        per = kl(log_p.detach(), log_q) + kl(log_q.detach(), log_p)
        return weighted_mean(per.reshape(-1), weights)


class JensenShannon(Divergence):
    """Jensen-Shannon divergence (in nats, at most log 2)."""

    def per_sample(self, log_q, log_p):
        return js(log_p, log_q)


class SquaredHellinger(Divergence):
    """Squared Hellinger distance."""

    def per_sample(self, log_q, log_p):
        return squared_hellinger(log_p, log_q)


class ChiSquare(Divergence):
    """Pearson chi-square chi^2(target || input)."""

    def per_sample(self, log_q, log_p):
        return chi_square(log_p, log_q)


class TotalVariation(Divergence):
    """Total variation distance 0.5 * sum |p - q|."""

    def per_sample(self, log_q, log_p):
        return total_variation(log_p, log_q)


DIVERGENCES = {
    "reverse_kl": (ReverseKL, ()),
    "stable_sym_kl": (StableSymmetricKL, ("NsSymKlCriterion",)),
    "js": (JensenShannon, ("JSCriterion",)),
    "hellinger": (SquaredHellinger, ("HLCriterion",)),
    "chi2": (ChiSquare, ()),
    "tv": (TotalVariation, ()),
}
