"""One shared encoder, one head per task."""
from __future__ import annotations

import torch
from torch import nn

from mtdnn_core.model.encoder import accepts_token_type_ids
from mtdnn_core.model.heads import Head


def init_linear_layers(module: nn.Module, std: float) -> None:
    """Initialise a head's linear layers as the encoder's own were (normal(0, std), zero bias),
    the convention of pretrained transformers, rather than PyTorch's default uniform init."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear) and not nn.utils.parametrize.is_parametrized(layer):
            nn.init.normal_(layer.weight, mean=0.0, std=std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


class MultiTaskModel(nn.Module):
    """``forward(task, batch)`` runs the shared encoder and ``task``'s head.

    ``inputs_embeds`` lets regularizers feed perturbed word embeddings (the encoder then adds
    position and type embeddings itself, so nothing is added twice).
    """

    def __init__(self, encoder: nn.Module, heads: dict[str, Head]):
        super().__init__()
        self.encoder = encoder
        self.heads = nn.ModuleDict(heads)
        self.use_token_types = accepts_token_type_ids(encoder)
        std = getattr(encoder.config, "initializer_range", 0.02)
        for head in heads.values():
            if getattr(head, "encoder_style_init", False):
                init_linear_layers(head, std)
            if hasattr(head, "init_from_encoder"):
                head.init_from_encoder(encoder)

    @property
    def hidden_size(self) -> int:
        return self.encoder.config.hidden_size

    def embed(self, batch: dict) -> torch.Tensor:
        """Word embeddings of the batch (before position/type embeddings and LayerNorm)."""
        return self.encoder.get_input_embeddings()(batch["input_ids"])

    def encode(self, batch: dict, inputs_embeds: torch.Tensor | None = None) -> torch.Tensor:
        kwargs = {"attention_mask": batch["attention_mask"]}
        if self.use_token_types:
            kwargs["token_type_ids"] = batch["token_type_ids"]
        if inputs_embeds is None:
            kwargs["input_ids"] = batch["input_ids"]
        else:
            kwargs["inputs_embeds"] = inputs_embeds
        return self.encoder(**kwargs, return_dict=True).last_hidden_state

    def forward(self, task: str, batch: dict, inputs_embeds: torch.Tensor | None = None) -> torch.Tensor:
        return self.heads[task](self.encode(batch, inputs_embeds), batch)

    def encoder_state_dict(self) -> dict[str, torch.Tensor]:
        """The encoder alone: a "stripped" checkpoint with the task heads removed."""
        return self.encoder.state_dict()
