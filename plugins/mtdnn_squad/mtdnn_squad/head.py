"""The span head: a start and an end logit for every token."""
from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from mtdnn_core.api import Head
from mtdnn_squad.settings import SpanSettings

PADDING_LOGIT = -1e4  # far below any real logit, and finite in fp16 (softmax and KL stay defined)


class SpanConfig(SpanSettings):
    """The head's options (dropout) plus the task's windowing and decoding settings."""

    dropout: float | None = Field(default=None, ge=0, lt=1, description="default: the task's dropout_p, else 0.1")


class SpanHead(Head):
    """Per-token dropout -> Linear(H, 2): ``[batch, tokens, 2]`` start and end logits, padding
    positions pushed to ``PADDING_LOGIT`` so that a batch's padding never changes its loss."""

    Config = SpanConfig
    task_types = ("span", "span_v2")
    encoder_style_init = True

    def __init__(self, hidden_size: int, task, config: SpanConfig | None = None, **options):
        super().__init__(hidden_size, task)
        self.config = config or SpanConfig(**options)
        self.dropout = nn.Dropout(self.default_dropout(self.config.dropout))
        self.out = nn.Linear(hidden_size, 2)

    def forward(self, hidden: torch.Tensor, batch: dict) -> torch.Tensor:
        logits = self.out(self.dropout(hidden))
        padding = ~batch["attention_mask"].bool().unsqueeze(-1)
        return logits.masked_fill(padding, PADDING_LOGIT)
