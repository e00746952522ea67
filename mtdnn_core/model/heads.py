"""Task heads: turn the encoder's token states into a task's logits.

Every head subclasses :class:`Head` and is built as ``cls(hidden_size=H, task=TaskDef,
config=Config)`` where ``config`` is the task definition's ``head_config`` validated by the
head's pydantic ``Config`` (the one place its defaults live). Built directly, a head also takes
the config's fields as keyword arguments (``PoolerHead(H, task, dropout=0.0)``).
"""
from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from mtdnn_core.config import TaskDef

ACTIVATIONS = {"tanh": nn.Tanh, "gelu": nn.GELU, "relu": nn.ReLU}


class Head(nn.Module):
    """Base class. ``forward(hidden [B, L, H], batch) -> logits``.

    ``task_types``: the task types the head works with (``None``: any), checked at validation.
    ``encoder_style_init``: when True the model builder draws the head's linear layers as the
    encoder's own were drawn (normal(0, initializer_range), zero bias); otherwise the head keeps
    the initialisation its ``__init__`` gives.
    """

    task_types: tuple[str, ...] | None = None
    encoder_style_init: bool = False

    def __init__(self, hidden_size: int, task: TaskDef):
        super().__init__()
        self.hidden_size = hidden_size
        self.task = task

    def default_dropout(self, dropout: float | None) -> float:
        if dropout is not None:
            return dropout
        return self.task.dropout_p if self.task.dropout_p is not None else 0.1

    def forward(self, hidden: torch.Tensor, batch: dict) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def task_loss(self, logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor | None:
        """A head that needs its own loss (a CRF's likelihood) returns it here; ``None`` means
        the task definition's loss is used."""
        return None

    def decode(self, logits: torch.Tensor, batch: dict) -> torch.Tensor:
        """Predicted class per position (sequence labeling); a CRF overrides it with Viterbi."""
        return logits.argmax(-1)


class PoolerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activation: Literal["tanh", "gelu", "relu"] = "tanh"
    dropout: float | None = Field(default=None, ge=0, lt=1)
    init_from_encoder_pooler: bool = Field(
        default=True, description="start the H->H layer from the encoder's pretrained pooler"
    )


class PoolerHead(Head):
    """First token -> dropout -> Linear(H, H) -> activation -> Linear(H, n_class).

    Used for classification and (with one output, squeezed) regression.
    """

    Config = PoolerConfig
    encoder_style_init = True

    def __init__(self, hidden_size: int, task: TaskDef, config: PoolerConfig | None = None, n_out: int | None = None,
                 **options):
        super().__init__(hidden_size, task)
        config = config or PoolerConfig(**options)
        self.dropout = nn.Dropout(self.default_dropout(config.dropout))
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.activation = ACTIVATIONS[config.activation]()
        self.out = nn.Linear(hidden_size, n_out if n_out is not None else task.n_class)
        self.init_from_encoder_pooler = config.init_from_encoder_pooler
        self.squeeze = self.out.out_features == 1  # one output: a value per row, not a class

    def init_from_encoder(self, encoder: nn.Module) -> None:
        """Copy the encoder's pretrained pooler into ``dense`` when shapes match."""
        pooler = getattr(getattr(encoder, "pooler", None), "dense", None)
        if self.init_from_encoder_pooler and isinstance(pooler, nn.Linear) and pooler.weight.shape == self.dense.weight.shape:
            with torch.no_grad():
                self.dense.weight.copy_(pooler.weight)
                self.dense.bias.copy_(pooler.bias)

    def pool(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(self.dropout(hidden[:, 0])))

    def forward(self, hidden, batch):
        logits = self.out(self.pool(hidden))
        return logits.squeeze(-1) if self.squeeze else logits


class RankingHead(PoolerHead):
    """Scores each candidate with a one-output pooler head; softmax over a sample's candidates
    happens in the loss. Returns ``[batch, candidates]`` with missing candidates at -inf."""

    Config = PoolerConfig
    task_types = ("ranking",)

    def __init__(self, hidden_size: int, task: TaskDef, config: PoolerConfig | None = None, **options):
        super().__init__(hidden_size, task, config or PoolerConfig(**options), n_out=1)

    def forward(self, hidden, batch):
        mask = batch["candidate_mask"]
        scores = self.out(self.pool(hidden)).view(mask.shape).float()
        return scores.masked_fill(~mask, float("-inf"))


class TokenConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dropout: float | None = Field(default=None, ge=0, lt=1)


class TokenHead(Head):
    """Per-token dropout -> Linear(H, n_class), for sequence labeling."""

    Config = TokenConfig
    encoder_style_init = True

    def __init__(self, hidden_size: int, task: TaskDef, config: TokenConfig | None = None, **options):
        super().__init__(hidden_size, task)
        self.dropout = nn.Dropout(self.default_dropout((config or TokenConfig(**options)).dropout))
        self.out = nn.Linear(hidden_size, task.n_class)

    def forward(self, hidden, batch):
        return self.out(self.dropout(hidden))
