"""The HNN head: a masked-LM scorer and a semantic-similarity scorer over the shared encoder.

The encoder runs once over every candidate's masked-LM and similarity sequences (see
:mod:`mtdnn_hnn.batching`); the head turns those hidden states into
:class:`~mtdnn_hnn.scores.ChoiceScores`:

* LM: the masked-LM head at the masked positions, ``log_softmax``, the candidate's tokens'
  log-probabilities averaged per candidate;
* similarity: pooled pronoun and candidate representations compared (:mod:`mtdnn_hnn.pooling`);
* hybrid: a weighted average (``lm_share``) of the two scorers' candidate distributions,
  ``exp(lm)`` and ``sim_prob`` each normalised over the schema's candidates (``combine:
  normalized``), or of the raw values as HNN averages them (``combine: raw``). Raw averaging lets
  the scorer on the larger scale decide alone: a masked LM whose candidates get mean token
  probabilities near 1e-4 next to similarity probabilities near 0.8 never changes the hybrid's choice.
"""
from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from mtdnn_core.api import Head, TaskDef
from mtdnn_hnn.mlm import masked_lm_head
from mtdnn_hnn.pooling import Similarity, SpanPooler
from mtdnn_hnn.scores import ChoiceScores


class HnnHeadConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    similarity: Literal["bilinear", "cosine"] = Field(default="bilinear", description="how pronoun and candidate compare")
    pooling: Literal["attention", "mean", "first"] = Field(default="attention", description="how a span becomes one vector")
    lm_share: float = Field(default=0.5, ge=0, le=1, description="weight of the LM scorer in the hybrid score")
    combine: Literal["normalized", "raw"] = Field(
        default="normalized", description="average the scorers' distributions over candidates, or their raw probabilities (HNN)")
    mlm_source: str | None = Field(default=None, description="masked-LM model to take the LM head from (default: the encoder's source)")


class HnnHead(Head):
    """Masked-LM + semantic-similarity scorers of candidate antecedents (HNN)."""

    Config = HnnHeadConfig
    task_types = ("candidate_choice",)
    encoder_style_init = True

    def __init__(self, hidden_size: int, task: TaskDef, config: HnnHeadConfig | None = None, **options):
        super().__init__(hidden_size, task)
        self.config = config or HnnHeadConfig(**options)
        self.pooler = SpanPooler(hidden_size, self.config.pooling)
        self.similarity = Similarity(hidden_size, self.config.similarity)
        self.mlm: nn.Module | None = None

    def init_from_encoder(self, encoder: nn.Module) -> None:
        """Load (and tie) the masked-LM head; called by the model builder after construction."""
        self.mlm = masked_lm_head(encoder, self.config.mlm_source)

    def lm_scores(self, hidden: torch.Tensor, batch: dict, shape: torch.Size) -> torch.Tensor:
        """Mean log-probability of each candidate's tokens ``[B, C]`` (0 for padded candidates)."""
        if self.mlm is None:
            raise RuntimeError("HnnHead.init_from_encoder was not called; build it through MultiTaskModel")
        states = hidden[batch["mask_rows"], batch["mask_positions"]]
        log_probs = torch.log_softmax(self.mlm(states).float(), dim=-1)
        token = log_probs.gather(1, batch["mask_targets"].unsqueeze(1)).squeeze(1)
        slots = shape[0] * shape[1]
        total = torch.zeros(slots, device=hidden.device).index_add(0, batch["mask_slots"], token)
        count = torch.zeros(slots, device=hidden.device).index_add(0, batch["mask_slots"], torch.ones_like(token))
        return (total / count.clamp_min(1)).view(shape)

    def sim_scores(self, hidden: torch.Tensor, batch: dict, mask: torch.Tensor) -> torch.Tensor:
        """Similarity of pronoun and candidate ``[B, C]`` (0 for padded candidates)."""
        rows = hidden[batch["sim_rows"]]
        pronoun, candidate = self.pooler(rows, batch["pronoun_mask"], batch["span_mask"])
        scores = torch.zeros(mask.shape, device=hidden.device, dtype=torch.float)
        return scores.masked_scatter(mask, self.similarity(pronoun, candidate))

    def forward(self, hidden: torch.Tensor, batch: dict) -> ChoiceScores:
        mask = batch["candidate_mask"]
        lm = self.lm_scores(hidden, batch, mask.shape)
        sim = self.sim_scores(hidden, batch, mask)
        sim_prob = self.similarity.probability(sim)
        hybrid = combine(lm, sim_prob, mask, self.config.lm_share, self.config.combine)
        zero = torch.zeros_like(lm)
        return ChoiceScores(lm=torch.where(mask, lm, zero), sim=sim, sim_prob=torch.where(mask, sim_prob, zero),
                            hybrid=torch.where(mask, hybrid, zero), mask=mask)


def combine(lm: torch.Tensor, sim_prob: torch.Tensor, mask: torch.Tensor, lm_share: float, how: str) -> torch.Tensor:
    """The hybrid score ``[B, C]`` from the LM's mean log-probabilities and the similarity probabilities."""
    if how == "raw":
        return lm_share * lm.exp() + (1 - lm_share) * sim_prob
    lm_dist = torch.softmax(lm.masked_fill(~mask, float("-inf")), dim=1)
    sim_masked = sim_prob.masked_fill(~mask, 0.0)
    sim_dist = sim_masked / sim_masked.sum(1, keepdim=True).clamp_min(1e-12)
    return lm_share * lm_dist + (1 - lm_share) * sim_dist
