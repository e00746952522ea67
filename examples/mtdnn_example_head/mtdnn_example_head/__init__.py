"""A custom head as a plugin: mean of the token states -> dropout -> Linear, and its export for
``mtdnn export`` (the head's inference code, needing only torch)."""
import torch
from pydantic import BaseModel, ConfigDict

from mtdnn_core.api import Head, hookimpl

MTDNN_API = ">=1.0,<2"  # the API versions this plugin is written for


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


# The head at inference, as self-contained source (no mtdnn): built as `cls(config)`, called as
# `head(hidden, batch)`; dropout does nothing at inference, so it is left out.
INFERENCE_SOURCE = '''
import torch
from torch import nn


class MeanPoolHead(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.out = nn.Linear(config.hidden_size, config.head_settings["n_out"])

    def forward(self, hidden, batch):
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return self.out((hidden * mask).sum(1) / mask.sum(1).clamp_min(1))
'''


@hookimpl
def register_heads(registry):
    registry.add("mean_pool", MeanPoolHead, config=MeanPoolConfig)


@hookimpl
def export_head(head, task):
    """The mean-pool head of a classification task for ``mtdnn export``; ``None`` for other heads."""
    if not isinstance(head, MeanPoolHead) or head.out.out_features < 2:
        return None
    from mtdnn_core.api import HeadExport

    weights = {name: value.detach().clone() for name, value in head.out.state_dict().items()}
    return HeadExport("MeanPoolHead", INFERENCE_SOURCE, {f"out.{k}": v for k, v in weights.items()},
                      "text-classification", settings={"n_out": head.out.out_features})
