"""Encoder loading options against the original weights."""
import pytest
import torch

from mtdnn_core.config import TrainConfig
from mtdnn_core.errors import MtdnnError
from mtdnn_core.model.encoder import load_hf_encoder, load_tiny_random_bert
from mtdnn_core.testing import make_host
from mtdnn_core.training.setup import build_encoder


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    encoder, tokenizer = load_tiny_random_bert(layers=3)
    path = tmp_path_factory.mktemp("enc")
    encoder.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path, encoder


def test_truncation_keeps_the_first_layers_weights(saved):
    path, full = saved
    short, _ = load_hf_encoder(str(path), num_layers=2)
    assert len(short.encoder.layer) == 2
    for a, b in zip(short.encoder.layer[1].parameters(), full.encoder.layer[1].parameters()):
        assert torch.equal(a, b)
    with pytest.raises(MtdnnError, match="cannot keep 5"):
        load_hf_encoder(str(path), num_layers=5)


def test_freeze_and_dropout(saved):
    path, _ = saved
    frozen, _ = load_hf_encoder(str(path), freeze=True, dropout=0.3)
    assert not any(p.requires_grad for p in frozen.parameters())
    assert frozen.config.hidden_dropout_prob == 0.3 and frozen.config.attention_probs_dropout_prob == 0.3


def test_unknown_encoder_suggests_registered_names():
    config = TrainConfig(tasks=["x"], encoder="all-minilm-l6")
    with pytest.raises(MtdnnError, match="did you mean 'all-minilm-l6-v2'"):
        build_encoder(config, make_host())
