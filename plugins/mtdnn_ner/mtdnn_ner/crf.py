"""A linear-chain CRF head over words (the first sub-token of each word), trained by negative
log-likelihood and decoded with Viterbi."""
from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from mtdnn_core.api import Head


class CRFConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dropout: float | None = Field(default=None, ge=0, lt=1)


def first_subtokens(word_ids: torch.Tensor) -> torch.Tensor:
    """Mask of positions holding the first sub-token of a word."""
    previous = torch.cat([torch.full_like(word_ids[:, :1], -1), word_ids[:, :-1]], dim=1)
    return (word_ids >= 0) & (word_ids != previous)


def compact(values: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Move masked positions to the front: returns (values [B, W, ...], word mask [B, W], the
    source position of each word [B, W])."""
    order = torch.argsort((~mask).to(torch.int8), dim=1, stable=True)
    width = max(int(mask.sum(1).max()), 1)
    order = order[:, :width]
    word_mask = torch.arange(width, device=mask.device)[None, :] < mask.sum(1, keepdim=True)
    index = order.view(*order.shape, *([1] * (values.dim() - 2))).expand(-1, -1, *values.shape[2:])
    return values.gather(1, index), word_mask, order


class CRF(nn.Module):
    def __init__(self, n_tags: int):
        super().__init__()
        self.transitions = nn.Parameter(torch.zeros(n_tags, n_tags))  # [from, to]
        self.start = nn.Parameter(torch.zeros(n_tags))
        self.end = nn.Parameter(torch.zeros(n_tags))

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        alpha = self.start + emissions[:, 0]
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha.unsqueeze(2) + self.transitions + emissions[:, t].unsqueeze(1), dim=1)
            alpha = torch.where(mask[:, t : t + 1], step, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch = torch.arange(emissions.shape[0], device=emissions.device)
        total = self.start[tags[:, 0]] + emissions[batch, 0, tags[:, 0]]
        for t in range(1, emissions.shape[1]):
            step = self.transitions[tags[:, t - 1], tags[:, t]] + emissions[batch, t, tags[:, t]]
            total = total + step * mask[:, t]
        last = tags.gather(1, (mask.sum(1, keepdim=True) - 1).clamp_min(0)).squeeze(1)
        return total + self.end[last]

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Per-sentence negative log-likelihood."""
        return self.log_partition(emissions, mask) - self.score(emissions, tags, mask)

    def viterbi(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        score = self.start + emissions[:, 0]
        back = []
        for t in range(1, emissions.shape[1]):
            candidates = score.unsqueeze(2) + self.transitions
            best, index = candidates.max(dim=1)
            step = best + emissions[:, t]
            keep = mask[:, t : t + 1]
            score = torch.where(keep, step, score)
            identity = torch.arange(score.shape[1], device=score.device).expand_as(index)
            back.append(torch.where(keep, index, identity))
        score = score + self.end
        best = score.argmax(1)
        path = [best]
        for index in reversed(back):
            best = index.gather(1, best.unsqueeze(1)).squeeze(1)
            path.append(best)
        return torch.stack(path[::-1], dim=1)


class CRFHead(Head):
    """Per-token emissions (dropout -> Linear) scored by a CRF over each sentence's words."""

    Config = CRFConfig
    task_types = ("sequence_labeling",)
    encoder_style_init = True

    def __init__(self, hidden_size: int, task, config: CRFConfig | None = None, **options):
        super().__init__(hidden_size, task)
        self.dropout = nn.Dropout(self.default_dropout((config or CRFConfig(**options)).dropout))
        self.emissions = nn.Linear(hidden_size, task.n_class)
        self.crf = CRF(task.n_class)

    def forward(self, hidden, batch):
        return self.emissions(self.dropout(hidden))

    def task_loss(self, logits, labels, weights):
        mask = labels >= 0  # exactly the first sub-tokens carry labels
        emissions, word_mask, order = compact(logits.float(), mask)
        tags = labels.gather(1, order).clamp_min(0)
        nll = self.crf.nll(emissions, tags, word_mask)
        if weights is None:
            return nll.mean()
        return (nll * weights).sum() / weights.sum().clamp_min(1e-12)

    def loss_units(self, labels, weights):
        """Sentences (the likelihood is a mean over them, not over tokens), or the weights' sum."""
        return float(labels.shape[0]) if weights is None else weights.float().sum()

    def decode(self, logits, batch):
        mask = first_subtokens(batch["word_ids"])
        emissions, word_mask, order = compact(logits.float(), mask)
        best = self.crf.viterbi(emissions, word_mask)
        out = torch.zeros(logits.shape[:2], dtype=torch.long, device=logits.device)
        return out.scatter(1, order, torch.where(word_mask, best, out.gather(1, order)))

