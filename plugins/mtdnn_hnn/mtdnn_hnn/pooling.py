"""Span representations and their similarity, HNN's semantic-similarity scorer.

The pronoun's representation attends over the pronoun's tokens with the first token's state as
query; the candidate's attends over the candidate's tokens with a learned projection of it
(HNN's "cap" pooling), both scaled by ``1/sqrt(H)``. ``mean`` and ``first`` pool without
attention. Similarity is the cosine (probability ``(cos + 1) / 2``) or a bilinear form
``(W c) . p`` (probability ``sigmoid``).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def attention_pool(hidden: torch.Tensor, mask: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
    """``sum_j softmax_j(q . h_j / sqrt(H)) h_j`` over the positions in ``mask`` (``[N, L]``)."""
    scores = torch.einsum("nlh,nh->nl", hidden, query) / math.sqrt(hidden.shape[-1])
    weights = torch.softmax(scores.float().masked_fill(~mask, float("-inf")), dim=-1).to(hidden.dtype)
    return torch.einsum("nl,nlh->nh", weights, hidden)


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.to(hidden.dtype)
    return torch.einsum("nl,nlh->nh", weights, hidden) / weights.sum(1, keepdim=True)


def first_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    first = mask.float().argmax(1)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), first]


class SpanPooler(nn.Module):
    def __init__(self, hidden_size: int, pooling: str):
        super().__init__()
        self.pooling = pooling
        self.query = nn.Linear(hidden_size, hidden_size, bias=False) if pooling == "attention" else None

    def forward(self, hidden: torch.Tensor, pronoun_mask: torch.Tensor, span_mask: torch.Tensor):
        """``(pronoun, candidate)`` representations ``[N, H]`` of similarity rows ``[N, L, H]``."""
        if self.pooling == "attention":
            first = hidden[:, 0]
            return attention_pool(hidden, pronoun_mask, first), attention_pool(hidden, span_mask, self.query(first))
        pool = mean_pool if self.pooling == "mean" else first_pool
        return pool(hidden, pronoun_mask), pool(hidden, span_mask)


class Similarity(nn.Module):
    def __init__(self, hidden_size: int, kind: str):
        super().__init__()
        self.kind = kind
        self.bilinear = nn.Linear(hidden_size, hidden_size, bias=False) if kind == "bilinear" else None

    def forward(self, pronoun: torch.Tensor, candidate: torch.Tensor) -> torch.Tensor:
        if self.bilinear is None:
            return F.cosine_similarity(pronoun.float(), candidate.float(), dim=-1, eps=1e-9)
        return (self.bilinear(candidate) * pronoun).sum(-1).float()

    def probability(self, score: torch.Tensor) -> torch.Tensor:
        return (score + 1) / 2 if self.bilinear is None else torch.sigmoid(score)
