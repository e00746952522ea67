"""A custom head as a plugin: mean of the token states -> dropout -> Linear."""
import torch
from pydantic import BaseModel, ConfigDict

from mtdnn_core import hookimpl
from mtdnn_core.model.heads import Head


class MeanPoolConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dropout: float = 0.1


class MeanPoolHead(Head):
    """Average of the non-padding token states, then a linear layer."""

    def __init__(self, hidden_size, task, config: MeanPoolConfig):
        super().__init__(hidden_size, task)
        self.dropout = torch.nn.Dropout(config.dropout)
        self.out = torch.nn.Linear(hidden_size, task.n_class)

    def forward(self, hidden, batch):
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1)
        logits = self.out(self.dropout(pooled))
        return logits.squeeze(-1) if self.task.n_class == 1 else logits  # one output: a value per row


@hookimpl
def register_heads(registry):
    registry.add("mean_pool", MeanPoolHead, config=MeanPoolConfig)
