"""The masked-LM head: BERT's prediction head with its decoder tied to the word embeddings.

``dense -> activation -> LayerNorm -> (word embeddings)^T + bias``, applied to the masked
positions only. When the encoder was loaded from a directory whose weights still hold a
pretrained MLM head (BERT's ``cls.predictions.*``, RoBERTa's ``lm_head.*``), the head starts
from it; otherwise it is initialised like the encoder's own layers.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from mtdnn_core.config import TaskDef
from mtdnn_core.model.heads import Head
from mtdnn_core.task_types.masked_lm import IGNORE_INDEX, MaskingConfig

# this head's parameter -> the name in pretrained checkpoints (BERT-style, RoBERTa-style)
PRETRAINED_NAMES = (
    {"dense.weight": "cls.predictions.transform.dense.weight", "dense.bias": "cls.predictions.transform.dense.bias",
     "norm.weight": "cls.predictions.transform.LayerNorm.weight", "norm.bias": "cls.predictions.transform.LayerNorm.bias",
     "bias": "cls.predictions.bias"},
    {"dense.weight": "lm_head.dense.weight", "dense.bias": "lm_head.dense.bias", "norm.weight": "lm_head.layer_norm.weight",
     "norm.bias": "lm_head.layer_norm.bias", "bias": "lm_head.bias"},
)


class MaskedLMConfig(MaskingConfig):
    """The head's options and the task's masking options (one place per task)."""

    init_from_pretrained: bool = Field(default=True, description="start from the encoder checkpoint's MLM head if it has one")


def pretrained_head_weights(encoder: nn.Module) -> dict[str, torch.Tensor] | None:
    """The MLM head stored beside the encoder's weights (a local directory), if any."""
    source = Path(str(getattr(encoder.config, "_name_or_path", "") or ""))
    weights = source / "model.safetensors"
    if not weights.is_file():
        return None
    from safetensors import safe_open

    with safe_open(str(weights), framework="pt") as handle:
        keys = set(handle.keys())
        for names in PRETRAINED_NAMES:
            if set(names.values()) <= keys:
                return {mine: handle.get_tensor(theirs) for mine, theirs in names.items()}
    return None


class MaskedLMHead(Head):
    """Predicts the masked tokens (``batch['mlm_labels'] != -100``): ``[masked tokens, vocab]``."""

    Config = MaskedLMConfig
    task_types = ("masked_lm",)
    encoder_style_init = True

    def __init__(self, hidden_size: int, task: TaskDef, config: MaskedLMConfig | None = None, **options):
        super().__init__(hidden_size, task)
        self.options = config or MaskedLMConfig(**options)
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.activation: nn.Module = nn.GELU()
        self.norm = nn.LayerNorm(hidden_size, eps=1e-12)
        self.bias = nn.Parameter(torch.zeros(0))  # sized to the vocabulary by init_from_encoder

    def init_from_encoder(self, encoder: nn.Module) -> None:
        """Tie the decoder to the encoder's word embeddings; take the encoder's activation and
        LayerNorm epsilon; start from a pretrained MLM head when the checkpoint has one."""
        from transformers.activations import ACT2FN

        embeddings = encoder.get_input_embeddings()
        # kept outside the module tree: the weight belongs to the encoder (saved, moved and
        # averaged there), the head only reads it
        object.__setattr__(self, "word_embeddings", embeddings)
        self.bias = nn.Parameter(torch.zeros(embeddings.num_embeddings, device=embeddings.weight.device))
        act = getattr(encoder.config, "hidden_act", "gelu")
        self.activation = ACT2FN[act] if isinstance(act, str) else act
        self.norm.eps = getattr(encoder.config, "layer_norm_eps", self.norm.eps)
        pretrained = pretrained_head_weights(encoder) if self.options.init_from_pretrained else None
        if pretrained is not None:
            with torch.no_grad():
                for name, value in pretrained.items():
                    self.get_parameter(name).copy_(value)

    def forward(self, hidden, batch):
        if "word_embeddings" not in self.__dict__:
            raise RuntimeError("MaskedLMHead: call init_from_encoder(encoder) first (MultiTaskModel does)")
        labels = batch.get("mlm_labels")
        if labels is not None:
            hidden = hidden[labels != IGNORE_INDEX]
        states = self.norm(self.activation(self.dense(hidden)))
        return F.linear(states, self.word_embeddings.weight, self.bias)
