"""``convert mtdnn-pt``: original MT-DNN checkpoints, read weights-only; a pickle that carries
code is refused and nothing runs."""
import json
import os

import pytest
import torch
from click.testing import CliRunner

from mtdnn_convert.errors import ConversionError
from mtdnn_convert.mtdnn_pt import convert_mtdnn_pt

BERT = dict(vocab_size=30, hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16,
            max_position_embeddings=16, type_vocab_size=2)


def original_checkpoint(path, old_names=True, config_keys=tuple(BERT), extra_state=None):
    """A file shaped like mt_dnn_base_uncased.pt: {'state': bert.* + scoring_list.N.*, 'config': {...}}."""
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    bert = BertModel(BertConfig(**BERT))
    state = {}
    for key, value in bert.state_dict().items():
        if old_names:
            key = key.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        state[f"bert.{key}"] = value
    state.update({"scoring_list.0.weight": torch.randn(3, 8), "scoring_list.0.bias": torch.randn(3),
                  "scoring_list.1.proj.weight_v": torch.randn(1, 8), **(extra_state or {})})
    config = {k: BERT[k] for k in config_keys}
    config.update({"answer_opt": [0, 1], "task_def_list": [{"name": "mnli"}, {"name": "rte"}], "init_checkpoint": "bert-base"})
    torch.save({"state": state, "config": config, "optimizer": {}}, path)
    return bert, state


def assert_no_output(target):
    assert not target.exists() and not [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.tmp")]


def test_encoder_and_heads_are_written(tmp_path):
    from safetensors.torch import load_file
    from transformers import BertModel

    bert, state = original_checkpoint(tmp_path / "mt_dnn.pt")
    report = convert_mtdnn_pt(tmp_path / "mt_dnn.pt", tmp_path / "out")
    loaded = BertModel.from_pretrained(tmp_path / "out")
    for name, value in bert.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name
    heads = load_file(tmp_path / "out" / "heads.safetensors")
    assert set(heads) == {"scoring_list.0.weight", "scoring_list.0.bias", "scoring_list.1.proj.weight_v"}
    assert torch.equal(heads["scoring_list.0.weight"], state["scoring_list.0.weight"])
    described = json.loads((tmp_path / "out" / "heads.json").read_text())
    assert described["heads"][0]["parameters"] == {"bias": [3], "weight": [3, 8]}
    assert described["heads"][0]["kind"] == "linear" and described["heads"][0]["outputs"] == 3
    assert described["heads"][1]["kind"].startswith("other")
    assert described["training_options"]["task_def_list"][1] == {"name": "rte"}
    assert "no vocabulary" in report.tokenizer
    assert report.notes == ["not converted (not weights of the model): top-level optimizer"]


def test_missing_hyper_parameters_are_read_off_the_shapes(tmp_path):
    from transformers import AutoConfig

    original_checkpoint(tmp_path / "m.pt", old_names=False, config_keys=("num_attention_heads",))
    report = convert_mtdnn_pt(tmp_path / "m.pt", tmp_path / "out")
    config = AutoConfig.from_pretrained(tmp_path / "out")
    assert (config.vocab_size, config.hidden_size, config.num_hidden_layers, config.intermediate_size) == (30, 8, 2, 16)
    assert any("read off the tensor shapes" in note for note in report.notes)
    original_checkpoint(tmp_path / "n.pt", config_keys=("hidden_size",))
    with pytest.raises(ConversionError, match=r"lacks num_attention_heads .*--num-attention-heads"):
        convert_mtdnn_pt(tmp_path / "n.pt", tmp_path / "out2")
    assert convert_mtdnn_pt(tmp_path / "n.pt", tmp_path / "out2", num_attention_heads=4).encoder_tensors == 39


class RunsCode:
    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_carries_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "code-ran"
    payload = RunsCode()
    payload.marker = str(marker)
    torch.save({"state": {"bert.embeddings.word_embeddings.weight": torch.zeros(2, 2)}, "config": {"x": payload}},
               tmp_path / "evil.pt")
    with pytest.raises(ConversionError, match=r"evil.pt: refused: the file references '(posix|os).system'.*could run code"):
        convert_mtdnn_pt(tmp_path / "evil.pt", tmp_path / "out")
    assert not marker.exists()
    assert_no_output(tmp_path / "out")


def test_truncated_file_and_wrong_shapes(tmp_path):
    original_checkpoint(tmp_path / "m.pt")
    data = (tmp_path / "m.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ConversionError, match="cut.pt: not a readable PyTorch checkpoint"):
        convert_mtdnn_pt(tmp_path / "cut.pt", tmp_path / "out")
    original_checkpoint(tmp_path / "bad.pt", extra_state={"bert.pooler.dense.bias": torch.zeros(5)})
    with pytest.raises(ConversionError, match=r"pooler.dense.bias: file \[5\], config implies \[8\]"):
        convert_mtdnn_pt(tmp_path / "bad.pt", tmp_path / "out")
    assert_no_output(tmp_path / "out")


def test_unknown_keys_are_refused_unless_ignored(tmp_path):
    original_checkpoint(tmp_path / "m.pt", extra_state={"mask_lm_header.weight": torch.zeros(2)})
    with pytest.raises(ConversionError, match=r"1 key\(s\) neither encoder .* --ignore PATTERN: mask_lm_header.weight"):
        convert_mtdnn_pt(tmp_path / "m.pt", tmp_path / "out")
    report = convert_mtdnn_pt(tmp_path / "m.pt", tmp_path / "out", ignore=["mask_lm_header.*"])
    assert report.notes[0] == "ignored 1 key(s) matching --ignore"


def test_cli_with_a_vocabulary(tmp_path):
    from transformers import AutoTokenizer

    from mtdnn_core.api import cli as main

    original_checkpoint(tmp_path / "m.pt")
    vocab = tmp_path / "vocab.txt"
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Paris", "is", "big"]
    vocab.write_text("\n".join(words + [f"[unused{i}]" for i in range(BERT["vocab_size"] - len(words))]) + "\n")
    result = CliRunner().invoke(main, ["convert", "mtdnn-pt", str(tmp_path / "m.pt"), str(tmp_path / "out"), "--vocab", str(vocab)])
    assert result.exit_code == 0, result.output
    assert "head scoring_list.0: linear" in result.output and "lower-casing off" in result.output  # cased vocab
    assert AutoTokenizer.from_pretrained(tmp_path / "out")("Paris is big")["input_ids"] == [2, 5, 6, 7, 3]
