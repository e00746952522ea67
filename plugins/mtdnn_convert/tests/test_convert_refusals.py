"""``convert tf-bert`` and ``convert mtdnn-pt`` refuse a vocabulary whose size is not the
checkpoint's word-embedding rows, and weights holding NaN or infinity, naming the file, sizes or
tensor, with no output directory left behind."""
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from mtdnn_convert.tf_bundle import BundleReader, write_bundle
from mtdnn_core.api import cli as main

TINY = Path(__file__).resolve().parent / "fixtures" / "tiny_tf_bert"
BERT = dict(vocab_size=30, hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16,
            max_position_embeddings=16, type_vocab_size=2)


def original_checkpoint(path, extra_state=None):
    """A tiny file shaped like mt_dnn_base_uncased.pt: {'state': bert.* + scoring_list.N.*, 'config'}."""
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    state = {f"bert.{k}": v for k, v in BertModel(BertConfig(**BERT)).state_dict().items()}
    state.update({"scoring_list.0.weight": torch.randn(3, 8), "scoring_list.0.bias": torch.randn(3), **(extra_state or {})})
    torch.save({"state": state, "config": dict(BERT)}, path)


def refused(args, *patterns):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), repr(result.exception)
    for pattern in patterns:
        assert re.search(pattern, result.output), result.output
    return result.output


def no_output(target: Path):
    return not target.exists() and not [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}")]


@pytest.mark.parametrize("change", [-1, +1])
def test_tf_bert_vocabulary_must_have_one_line_per_embedding_row(tmp_path, change):
    source = shutil.copytree(TINY, tmp_path / "ckpt")
    lines = (source / "vocab.txt").read_text().splitlines()
    assert len(lines) == 24  # the fixture's word_embeddings: [24, 8]
    lines = lines[:-1] if change < 0 else [*lines, "extra"]
    (source / "vocab.txt").write_text("\n".join(lines) + "\n")
    refused(["convert", "tf-bert", source, tmp_path / "out"],
            rf"vocab.txt: {24 + change} tokens, but the checkpoint's bert/embeddings/word_embeddings has 24 rows")
    assert no_output(tmp_path / "out")


def test_tf_bert_weights_with_nan_are_refused(tmp_path):
    reader = BundleReader(TINY / "bert_model.ckpt")
    tensors = {name: reader.read(name).numpy() for name in reader.names()}
    tensors["bert/encoder/layer_1/attention/self/key/bias"] = np.full(8, np.nan, dtype=np.float32)
    source = tmp_path / "ckpt"
    source.mkdir()
    write_bundle(source / "bert_model.ckpt", tensors)
    for name in ("bert_config.json", "vocab.txt"):
        shutil.copy(TINY / name, source / name)
    refused(["convert", "tf-bert", source, tmp_path / "out"],
            r"bert/encoder/layer_1/attention/self/key/bias: 8 of 8 values are NaN or infinite")
    assert no_output(tmp_path / "out")


@pytest.mark.parametrize("key, value, said", [
    ("bert.embeddings.word_embeddings.weight", torch.full((30, 8), float("nan")), "240 of 240"),
    ("bert.encoder.layer.0.output.dense.bias", torch.tensor([float("inf")] + [0.0] * 7), "1 of 8"),
    ("scoring_list.0.weight", torch.full((3, 8), float("-inf")), "24 of 24"),
])
def test_mtdnn_pt_weights_with_nan_or_inf_are_refused(tmp_path, key, value, said):
    original_checkpoint(tmp_path / "m.pt", extra_state={key: value})
    before = (tmp_path / "m.pt").read_bytes()
    refused(["convert", "mtdnn-pt", tmp_path / "m.pt", tmp_path / "out"],
            rf"m\.pt: 1 tensor\(s\) hold NaN or infinite values", rf"{re.escape(key)}: {said} values are NaN or infinite")
    assert no_output(tmp_path / "out") and (tmp_path / "m.pt").read_bytes() == before


def test_mtdnn_pt_vocabulary_must_match_the_embedding_rows(tmp_path):
    original_checkpoint(tmp_path / "m.pt")
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(f"w{i}" for i in range(BERT["vocab_size"] - 2)) + "\n")
    refused(["convert", "mtdnn-pt", tmp_path / "m.pt", tmp_path / "out", "--vocab", vocab],
            r"vocab.txt: 28 tokens, but the checkpoint's word embeddings .* have 30 rows")
    assert no_output(tmp_path / "out")
