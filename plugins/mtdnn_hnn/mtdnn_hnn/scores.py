"""What the HNN head returns for a batch: each scorer's score of every candidate.

``lm`` is the mean log-probability of the candidate's tokens at the masked pronoun position;
``sim`` the similarity of the pooled pronoun and candidate (cosine, or a bilinear logit) and
``sim_prob`` its probability form; ``hybrid`` combines ``exp(lm)`` and ``sim_prob``. Padded
candidates (``mask`` False) hold 0 and never win.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from mtdnn_core.api import MtdnnError

SCORERS = ("hybrid", "lm", "sim")


class NotLogits(MtdnnError, AttributeError):
    """Code written for a logits tensor (adversarial or distillation terms) met HNN's scores."""


class ChoiceScores(NamedTuple):
    lm: torch.Tensor
    sim: torch.Tensor
    sim_prob: torch.Tensor
    hybrid: torch.Tensor
    mask: torch.Tensor

    def ranking(self, scorer: str) -> torch.Tensor:
        """``[batch, candidates]`` scores of one scorer, padded candidates at -inf."""
        values = {"hybrid": self.hybrid, "lm": self.lm, "sim": self.sim_prob}[scorer]
        return values.float().masked_fill(~self.mask, float("-inf"))

    def __getattr__(self, name: str):
        raise NotLogits(
            f"a candidate_choice task's head returns per-scorer candidate scores, not a logits tensor (asked for "
            f"'.{name}'): regularizers and losses made for logits (smart, pdr, bregman, kd) do not apply to it; "
            f"limit them to other tasks with params: {{tasks: [...]}}")
