"""Stochastic answer network (SAN, arXiv 1804.07888) as a task head for pair tasks.

Memory = token states of the premise; initial state = self-attention summary of the hypothesis.
For each turn t: attend with state s over the memory (bilinear by default) to get x; turn
prediction p_t = softmax(W [x; s; |x - s|; x * s]); then s = GRU(x, s). In training whole
turns are dropped per sample (at least one kept); the answer is the mean of the kept turns'
probabilities, returned as log-probabilities so cross-entropy applies unchanged. Probabilities
are averaged in float32, which keeps the head stable under bf16/fp16 autocast.
"""
from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from mtdnn_core.config import TaskDef
from mtdnn_core.model.heads import Head

NEG = -1e4


class SANConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    turns: int = Field(default=5, ge=1)
    turn_dropout: float = Field(default=0.1, ge=0, lt=1, description="probability of dropping a whole turn")
    memory_dropout: float = Field(default=0.1, ge=0, lt=1)
    dropout: float | None = Field(default=None, ge=0, lt=1)
    attention: Literal["bilinear", "simple", "flat"] = "bilinear"
    merge: Literal["full", "concat"] = Field(default="full", description="full: [x; s; |x-s|; x*s], concat: [x; s]")
    weight_norm: bool = False


def _masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.softmax(scores.float().masked_fill(~mask, NEG), dim=-1)


class SANHead(Head):
    Config = SANConfig
    task_types = ("classification",)
    encoder_style_init = True

    def __init__(self, hidden_size: int, task: TaskDef, config: SANConfig | None = None, **options):
        super().__init__(hidden_size, task)
        config = config or SANConfig(**options)
        turns, turn_dropout, memory_dropout, dropout = config.turns, config.turn_dropout, config.memory_dropout, config.dropout
        attention, merge, weight_norm = config.attention, config.merge, config.weight_norm
        h = hidden_size
        self.turns, self.turn_dropout, self.attention, self.merge = turns, turn_dropout, attention, merge
        self.dropout = nn.Dropout(self.default_dropout(dropout))
        self.memory_dropout = nn.Dropout(memory_dropout)
        self.query_summary = nn.Linear(h, 1)  # self-attention weights over hypothesis tokens
        if attention == "bilinear":
            self.attn = nn.Linear(h, h, bias=False)
        elif attention == "flat":
            self.attn = nn.Linear(3 * h, 1)
        else:
            self.attn = None
        self.rnn = nn.GRUCell(h, h)
        self.classifier = nn.Linear((4 if merge == "full" else 2) * h, task.n_class)
        if weight_norm:
            wn = nn.utils.parametrizations.weight_norm
            self.classifier = wn(self.classifier)
            if attention != "simple":
                self.attn = wn(self.attn)

    def _attend(self, memory: torch.Tensor, state: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.attention == "bilinear":
            scores = torch.bmm(memory, self.attn(state).unsqueeze(2)).squeeze(2)
        elif self.attention == "simple":
            scores = torch.bmm(memory, state.unsqueeze(2)).squeeze(2)
        else:
            expanded = state.unsqueeze(1).expand_as(memory)
            scores = self.attn(torch.cat([memory, expanded, memory * expanded], dim=-1)).squeeze(2)
        weights = _masked_softmax(scores, mask).to(memory.dtype)
        return torch.bmm(weights.unsqueeze(1), memory).squeeze(1)

    def _turn_mask(self, batch_size: int, device: torch.device) -> torch.Tensor:
        if not self.training or self.turn_dropout == 0:
            return torch.ones(batch_size, self.turns, device=device)
        keep = (torch.rand(batch_size, self.turns, device=device) >= self.turn_dropout).float()
        # keep at least one turn per sample: restore a random one where all were dropped
        empty = keep.sum(1) == 0
        if empty.any():
            pick = torch.randint(self.turns, (int(empty.sum()),), device=device)
            keep[empty.nonzero(as_tuple=True)[0], pick] = 1.0
        return keep

    def forward(self, hidden, batch):
        segments = batch["segment_ids"]
        premise = segments == 0
        hypothesis = segments == 1
        no_hyp = ~hypothesis.any(1, keepdim=True)  # single-sentence inputs: query the premise
        hypothesis = torch.where(no_hyp, premise, hypothesis)
        hidden = self.dropout(hidden)
        memory = self.memory_dropout(hidden)
        query_weights = _masked_softmax(self.query_summary(hidden).squeeze(2), hypothesis).to(hidden.dtype)
        state = torch.bmm(query_weights.unsqueeze(1), hidden).squeeze(1)
        probs = []
        for _ in range(self.turns):
            x = self._attend(memory, state, premise)
            feats = [x, state, (x - state).abs(), x * state] if self.merge == "full" else [x, state]
            probs.append(torch.softmax(self.classifier(torch.cat(feats, dim=-1)).float(), dim=-1))
            state = self.rnn(x, state)
        stacked = torch.stack(probs, dim=1)  # [B, T, C]
        keep = self._turn_mask(stacked.shape[0], stacked.device).unsqueeze(2)
        mean = (stacked * keep).sum(1) / keep.sum(1)
        return torch.log(mean.clamp_min(1e-12))
