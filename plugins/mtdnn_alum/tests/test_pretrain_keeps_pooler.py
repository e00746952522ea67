"""``alum pretrain`` writes the whole encoder: its pooler is kept beside the masked-LM head, so
the output loads as ``AutoModel`` (``--encoder``) with nothing missing (only the masked-LM head
is left over) and as ``AutoModelForMaskedLM`` with nothing missing (only the pooler, which
masked-LM classes have no place for, is left over)."""
import json
from pathlib import Path

import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from mtdnn_core.api import cli as main, load_tiny_random_bert

WORDS = "the cat sat on a mat while the dog ran far away from home and then came back".split()


def test_pretrained_output_keeps_the_encoders_pooler(tmp_path):
    from transformers import AutoModel, AutoModelForMaskedLM

    encoder, tokenizer = load_tiny_random_bert()
    source = tmp_path / "tiny"
    encoder.save_pretrained(source)
    tokenizer.save_pretrained(source)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": str(i), "text": " ".join(WORDS[i % 5:] + WORDS[: i % 5])}) + "\n"
                              for i in range(40)))
    out = tmp_path / "alum"
    result = CliRunner().invoke(main, ["alum", "pretrain", "--encoder", str(source), "--corpus", str(corpus),
                                       "--output", str(out), "--steps", "2", "--batch-size", "4", "--max-seq-len", "32",
                                       "--threads", "2", "--device", "cpu", "--no-progress"])
    assert result.exit_code == 0, result.output
    saved = load_file(Path(out) / "model.safetensors")
    original = encoder.state_dict()
    for name in ("pooler.dense.weight", "pooler.dense.bias"):
        assert f"bert.{name}" in saved, sorted(saved)[:5]
        # masked-LM training never uses the pooler: it is the encoder's, unchanged
        assert torch.equal(saved[f"bert.{name}"], original[name])
    model, info = AutoModel.from_pretrained(out, output_loading_info=True)
    assert not info["missing_keys"] and all(k.startswith("cls.predictions.") for k in info["unexpected_keys"]), info
    assert torch.equal(model.pooler.dense.weight, original["pooler.dense.weight"])
    _, info = AutoModelForMaskedLM.from_pretrained(out, output_loading_info=True)
    assert not info["missing_keys"] and info["unexpected_keys"] == {"bert.pooler.dense.weight", "bert.pooler.dense.bias"}
