"""Shared fixtures: the real HNN data and a tiny random masked-LM encoder directory."""
from __future__ import annotations

from pathlib import Path

import pytest

def save_tiny_bert(directory: Path, masked_lm: bool, seed: int = 0) -> Path:
    """A 2-layer BERT with hidden size 32 and the packaged uncased tokenizer, saved with
    ``save_pretrained``: with its masked-LM head (``BertForMaskedLM``) or without (``BertModel``)."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM, BertModel

    from mtdnn_core.api import packaged_minilm_path

    tokenizer = AutoTokenizer.from_pretrained(packaged_minilm_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=256)
    torch.manual_seed(seed)
    model = BertForMaskedLM(config) if masked_lm else BertModel(config)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_mlm(tmp_path_factory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-mlm"), masked_lm=True)


@pytest.fixture(scope="session")
def tiny_bare(tmp_path_factory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bare"), masked_lm=False)


@pytest.fixture(scope="session")
def tokenizer():
    from transformers import AutoTokenizer

    from mtdnn_core.api import packaged_minilm_path

    return AutoTokenizer.from_pretrained(packaged_minilm_path())
