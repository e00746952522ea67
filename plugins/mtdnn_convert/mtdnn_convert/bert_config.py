"""Google's ``bert_config.json``, validated, and its Hugging Face ``BertConfig`` equivalent."""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mtdnn_convert.errors import ConversionError


class GoogleBertConfig(BaseModel):
    """The keys Google's released configs use. Unknown keys are refused so a config of another
    architecture (ALBERT's ``embedding_size``, ...) is not silently converted as BERT."""

    model_config = ConfigDict(extra="forbid")
    vocab_size: int = Field(ge=1)
    hidden_size: int = Field(ge=1)
    num_hidden_layers: int = Field(ge=1)
    num_attention_heads: int = Field(ge=1)
    intermediate_size: int = Field(ge=1)
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = Field(default=0.1, ge=0, lt=1)
    attention_probs_dropout_prob: float = Field(default=0.1, ge=0, lt=1)
    max_position_embeddings: int = Field(default=512, ge=1)
    type_vocab_size: int = Field(default=2, ge=1)
    initializer_range: float = 0.02
    do_lower_case: bool | None = None
    # in the multilingual and Chinese releases; they describe the pooler, which is plain BERT's
    directionality: str | None = None
    pooler_fc_size: int | None = None
    pooler_num_attention_heads: int | None = None
    pooler_num_fc_layers: int | None = None
    pooler_size_per_head: int | None = None
    pooler_type: str | None = None

    @model_validator(mode="after")
    def _heads_divide_hidden(self) -> GoogleBertConfig:
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"hidden_size {self.hidden_size} is not a multiple of num_attention_heads {self.num_attention_heads}")
        return self

    def to_hf(self, architecture: str, hidden_act: str | None = None):
        from transformers import BertConfig

        keys = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings",
                "type_vocab_size", "initializer_range")
        config = BertConfig(**{k: getattr(self, k) for k in keys}, hidden_act=hidden_act or self.hidden_act,
                            layer_norm_eps=1e-12)
        config.architectures = [architecture]
        return config


def load_bert_config(path: Path) -> GoogleBertConfig:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConversionError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ConversionError(f"{path}: expected a JSON object of BERT hyper-parameters")
    try:
        return GoogleBertConfig(**data)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or '(config)'}: {e['msg']}" for e in exc.errors()]
        raise ConversionError(f"{path}: not a BERT config:\n" + "\n".join(f"  - {p}" for p in problems)) from None
