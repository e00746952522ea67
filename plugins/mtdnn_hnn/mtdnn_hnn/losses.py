"""HNN's training objective: a loss on each scorer and one on their combination.

* masked LM: ``-lm[answer]`` (the answer's mean token log-probability) plus, with weight
  ``rank_weight``, the margin ranking loss on ``exp(lm)``;
* similarity: a binary loss per candidate, ``-log sigmoid(s)`` for the answer and
  ``-log sigmoid(-(s + margin))`` for a wrong one, the two groups averaged;
* hybrid: the margin ranking loss on the combined score.

The margin ranking loss is a softmax over ``scale * (x + margin * [wrong])`` that the answer
must win (HNN's ``rank_loss``). When a row's answer is unknown (a false WNLI hypothesis only
rules out its own candidate) the set of still-possible candidates must win together instead:
``-log(sum_possible e^z / sum_possible_or_wrong e^z)``. Terms a row cannot define (no answer,
no wrong candidate) are left out of that row's average, never guessed.

Defaults follow the published HNN run (``ALPHA=0,0,0 BETA=0,0,0.6 GAMA=1,1,10``, in the order
similarity, LM, hybrid).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field

from mtdnn_core.api import Loss
from mtdnn_hnn.schema import RIGHT, UNKNOWN, WRONG
from mtdnn_hnn.scores import ChoiceScores


class LmLossConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: float = Field(default=1.0, ge=0, description="weight of the masked-LM scorer's loss")
    rank_weight: float = Field(default=0.0, ge=0, description="weight of its ranking term (HNN's alpha)")
    margin: float = Field(default=0.0, ge=0, description="margin of its ranking term (beta)")
    scale: float = Field(default=1.0, gt=0, description="scale of its ranking term (gamma)")


class SimLossConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: float = Field(default=1.0, ge=0, description="weight of the similarity scorer's loss")
    margin: float = Field(default=0.0, ge=0, description="added to a wrong candidate's score (beta)")
    scale: float = Field(default=1.0, gt=0, description="scale inside the sigmoid (gamma)")


class HybridLossConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: float = Field(default=1.0, ge=0, description="weight of the combined score's ranking loss")
    margin: float = Field(default=0.6, ge=0, description="margin (beta)")
    scale: float = Field(default=10.0, gt=0, description="scale (gamma)")


class HnnLossConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lm: LmLossConfig = Field(default_factory=LmLossConfig)
    sim: SimLossConfig = Field(default_factory=SimLossConfig)
    hybrid: HybridLossConfig = Field(default_factory=HybridLossConfig)


def margin_rank_loss(x: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, margin: float,
                     scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row ranking loss ``[B]`` and which rows define it (a possible and a wrong candidate)."""
    right, wrong = (targets == RIGHT) & mask, (targets == WRONG) & mask
    possible = torch.where(right.any(1, keepdim=True), right, (targets == UNKNOWN) & mask)
    defined = possible.any(1) & wrong.any(1)
    z = scale * (x.float() + margin * wrong.float())
    rows = defined.unsqueeze(1)  # undefined rows become zeros, so no -inf reaches a gradient

    def logsumexp(keep: torch.Tensor) -> torch.Tensor:
        return torch.logsumexp(torch.where(rows, z.masked_fill(~keep, float("-inf")), torch.zeros_like(z)), 1)

    return torch.where(defined, logsumexp(possible | wrong) - logsumexp(possible), torch.zeros_like(z[:, 0])), defined


def binary_loss(s: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, margin: float,
                scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row mean of the answer's and the wrong candidates' sigmoid losses ``[B]``."""
    right, wrong = ((targets == RIGHT) & mask).float(), ((targets == WRONG) & mask).float()
    s = s.float()
    pos = (-F.logsigmoid(scale * s) * right).sum(1) / right.sum(1).clamp_min(1)
    neg = (-F.logsigmoid(-scale * (s + margin)) * wrong).sum(1) / wrong.sum(1).clamp_min(1)
    groups = (right.sum(1) > 0).float() + (wrong.sum(1) > 0).float()
    return (pos + neg) / groups.clamp_min(1), groups > 0


def answer_log_likelihood(lm: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``-lm[answer]`` per row ``[B]``, for rows whose answer is known."""
    right = ((targets == RIGHT) & mask).float()
    return -(lm.float() * right).sum(1) / right.sum(1).clamp_min(1), right.sum(1) > 0


def row_mean(values: torch.Tensor, defined: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean over the rows that define a term (weighted by per-row weights); 0 if none do."""
    w = defined.float() if weights is None else defined.float() * weights.float()
    return (values * w).sum() / w.sum().clamp_min(1e-12)


class HybridLoss(Loss):
    """HNN's summed losses; ``forward(ChoiceScores, targets [B, C], weights)``."""

    Config = HnnLossConfig

    def __init__(self, config: HnnLossConfig | None = None, **options):
        super().__init__()
        self.config = config or HnnLossConfig(**options)

    def parts(self, scores: ChoiceScores, targets: torch.Tensor, weights: torch.Tensor | None = None) -> dict:
        c, mask = self.config, scores.mask
        likelihood, known = answer_log_likelihood(scores.lm, targets, mask)
        lm = row_mean(likelihood, known, weights)
        if c.lm.rank_weight:
            rank, defined = margin_rank_loss(scores.lm.float().exp(), targets, mask, c.lm.margin, c.lm.scale)
            lm = lm + c.lm.rank_weight * row_mean(rank, defined, weights)
        sim = row_mean(*binary_loss(scores.sim, targets, mask, c.sim.margin, c.sim.scale), weights)
        hybrid = row_mean(*margin_rank_loss(scores.hybrid, targets, mask, c.hybrid.margin, c.hybrid.scale), weights)
        return {"lm": lm, "sim": sim, "hybrid": hybrid}

    def forward(self, logits: ChoiceScores, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        parts = self.parts(logits, target, weights)
        c = self.config
        return c.lm.weight * parts["lm"] + c.sim.weight * parts["sim"] + c.hybrid.weight * parts["hybrid"]
