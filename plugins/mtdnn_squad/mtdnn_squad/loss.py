"""The span loss: the mean of the start and the end position's cross-entropy."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from mtdnn_core.api import Loss, weighted_mean


class SpanCrossEntropy(Loss):
    """``logits [batch, tokens, 2]``, ``target [batch, 2]`` (start, end token): per sample
    (CE(start) + CE(end)) / 2, averaged over the batch (weighted when weights are given); the
    original toolkit's ``SpanCeCriterion`` and Hugging Face's question-answering loss."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        logits = logits.float()
        start = F.cross_entropy(logits[..., 0], target[:, 0], reduction="none")
        end = F.cross_entropy(logits[..., 1], target[:, 1], reduction="none")
        return weighted_mean((start + end) / 2, weights)
