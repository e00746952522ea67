"""``convert tf-bert`` on the tiny checkpoint fixtures: every variable lands where Google's BERT
uses it (checked by a NumPy re-implementation of the TensorFlow model), and every bad input is
refused with a clear message and no output directory."""
import json
import shutil
from math import erf, sqrt
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from mtdnn_convert.errors import ConversionError
from mtdnn_convert.tf_bert import convert_tf_bert
from mtdnn_convert.tf_bundle import BundleReader, write_bundle

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY = FIXTURES / "tiny_tf_bert"


def tf_weights(prefix: Path) -> dict[str, np.ndarray]:
    reader = BundleReader(prefix)
    return {name: reader.read(name).numpy() for name in reader.names()}


def layer_norm(x, gamma, beta, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def gelu(x):
    return 0.5 * x * (1 + np.vectorize(erf)(x / sqrt(2)))


def gelu_tanh(x):
    """The approximation Google's TensorFlow BERT computes."""
    return 0.5 * x * (1 + np.tanh(sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def reference_bert(w: dict, config: dict, ids: np.ndarray, types: np.ndarray, gelu=gelu):
    """Google's ``modeling.py`` forward pass written against the TensorFlow variable names:
    dense layers compute ``x @ kernel + bias``; the NSP layer ``pooled @ output_weights^T``."""
    h, heads = config["hidden_size"], config["num_attention_heads"]
    x = w["bert/embeddings/word_embeddings"][ids] + w["bert/embeddings/position_embeddings"][: len(ids)] \
        + w["bert/embeddings/token_type_embeddings"][types]
    x = layer_norm(x, w["bert/embeddings/LayerNorm/gamma"], w["bert/embeddings/LayerNorm/beta"])

    def dense(v, scope):
        return v @ w[f"{scope}/kernel"] + w[f"{scope}/bias"]

    for n in range(config["num_hidden_layers"]):
        s = f"bert/encoder/layer_{n}"
        q, k, v = (dense(x, f"{s}/attention/self/{p}").reshape(len(ids), heads, -1).transpose(1, 0, 2)
                   for p in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(h // heads)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ v).transpose(1, 0, 2).reshape(len(ids), h)
        x = layer_norm(dense(context, f"{s}/attention/output/dense") + x,
                       w[f"{s}/attention/output/LayerNorm/gamma"], w[f"{s}/attention/output/LayerNorm/beta"])
        inner = gelu(dense(x, f"{s}/intermediate/dense"))
        x = layer_norm(dense(inner, f"{s}/output/dense") + x, w[f"{s}/output/LayerNorm/gamma"], w[f"{s}/output/LayerNorm/beta"])
    pooled = np.tanh(dense(x[:1], "bert/pooler/dense"))[0]
    t = layer_norm(gelu(dense(x, "cls/predictions/transform/dense")), w["cls/predictions/transform/LayerNorm/gamma"],
                   w["cls/predictions/transform/LayerNorm/beta"])
    mlm = t @ w["bert/embeddings/word_embeddings"].T + w["cls/predictions/output_bias"]
    nsp = pooled @ w["cls/seq_relationship/output_weights"].T + w["cls/seq_relationship/output_bias"]
    return x, pooled, mlm, nsp


def copy_fixture(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def assert_no_output(target: Path):
    assert not target.exists()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.tmp")]


def test_converted_model_computes_what_the_tensorflow_model_computes(tmp_path):
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer, BertForPreTraining

    report = convert_tf_bert(TINY, tmp_path / "out")
    assert report.architecture == "BertForPreTraining"
    assert report.ignored_slots == 5  # 2 variables x (adam_m, adam_v) + global_step
    assert report.converted == 46 and report.lower_case.value is True
    config = json.loads((TINY / "bert_config.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "out")
    encoded = tokenizer("The cats sat", "a dog")
    assert encoded["input_ids"] == [2, 5, 6, 12, 7, 3, 11, 10, 3]  # line numbers in vocab.txt, from 0
    ids, types = np.array(encoded["input_ids"]), np.array(encoded["token_type_ids"])
    hidden, pooled, mlm, nsp = reference_bert(tf_weights(TINY / "bert_model.ckpt"), config, ids, types)
    model = BertForPreTraining.from_pretrained(tmp_path / "out").eval()
    with torch.no_grad():
        out = model(input_ids=torch.tensor(ids)[None], token_type_ids=torch.tensor(types)[None], output_hidden_states=True)
    np.testing.assert_allclose(out.hidden_states[-1][0].numpy(), hidden, atol=1e-5)
    np.testing.assert_allclose(out.prediction_logits[0].numpy(), mlm, atol=1e-5)
    np.testing.assert_allclose(out.seq_relationship_logits[0].numpy(), nsp, atol=1e-5)
    base = AutoModel.from_pretrained(tmp_path / "out").eval()
    with torch.no_grad():
        pooler_output = base(input_ids=torch.tensor(ids)[None], token_type_ids=torch.tensor(types)[None]).pooler_output
    np.testing.assert_allclose(pooler_output[0].numpy(), pooled, atol=1e-5)
    assert type(AutoModelForMaskedLM.from_pretrained(tmp_path / "out")).__name__ == "BertForMaskedLM"


def test_hidden_act_gelu_new_reproduces_the_tensorflow_activation(tmp_path):
    from transformers import BertModel

    convert_tf_bert(TINY, tmp_path / "out", hidden_act="gelu_new")
    config = json.loads((TINY / "bert_config.json").read_text())
    ids, types = np.array([2, 5, 6, 12, 3]), np.zeros(5, dtype=int)
    hidden, _, _, _ = reference_bert(tf_weights(TINY / "bert_model.ckpt"), config, ids, types, gelu=gelu_tanh)
    with torch.no_grad():
        ours = BertModel.from_pretrained(tmp_path / "out")(input_ids=torch.tensor(ids)[None]).last_hidden_state[0]
    np.testing.assert_allclose(ours.numpy(), hidden, atol=1e-5)


@pytest.mark.parametrize("tf_name,hf_name,transposed", [
    ("bert/encoder/layer_1/attention/self/key/kernel", "bert.encoder.layer.1.attention.self.key.weight", True),
    ("bert/encoder/layer_0/output/LayerNorm/gamma", "bert.encoder.layer.0.output.LayerNorm.weight", False),
    ("bert/embeddings/token_type_embeddings", "bert.embeddings.token_type_embeddings.weight", False),
    ("cls/seq_relationship/output_weights", "cls.seq_relationship.weight", False),
    ("cls/predictions/output_bias", "cls.predictions.bias", False),
    ("bert/encoder/layer_1/intermediate/dense/kernel", "bert.encoder.layer.1.intermediate.dense.weight", True),
])
def test_variable_names_map_to_hugging_face_names(tmp_path, tf_name, hf_name, transposed):
    from safetensors.torch import load_file

    convert_tf_bert(TINY, tmp_path / "out")
    tf_value = BundleReader(TINY / "bert_model.ckpt").read(tf_name)
    hf_value = load_file(tmp_path / "out" / "model.safetensors")[hf_name]
    assert torch.equal(hf_value, tf_value.t() if transposed else tf_value)


def test_tensorflow_written_checkpoint_converts_as_a_bare_encoder(tmp_path):
    from transformers import AutoModel

    report = convert_tf_bert(FIXTURES / "tf_written", tmp_path / "out")
    assert report.architecture == "BertModel" and report.ignored_slots == 24  # 23 adam_m + global_step
    model = AutoModel.from_pretrained(tmp_path / "out")
    kernel = BundleReader(FIXTURES / "tf_written" / "bert_model.ckpt").read("bert/encoder/layer_0/output/dense/kernel")
    assert torch.equal(model.encoder.layer[0].output.dense.weight.data, kernel.t())


def test_unmapped_variables_are_refused_unless_ignored(tmp_path):
    source = copy_fixture(TINY, tmp_path / "ckpt")
    tensors = tf_weights(TINY / "bert_model.ckpt")
    tensors.update({"output_weights": np.zeros((3, 8), np.float32), "output_bias": np.zeros(3, np.float32)})
    write_bundle(source / "bert_model.ckpt", tensors)
    unmapped = r"(?s)2 variable\(s\) with no BERT equivalent \(drop them knowingly with --ignore.*  - output_bias\n  - output_weights"
    with pytest.raises(ConversionError, match=unmapped):
        convert_tf_bert(source, tmp_path / "out")
    assert_no_output(tmp_path / "out")
    report = convert_tf_bert(source, tmp_path / "out", ignore=["output_*"])
    assert report.ignored_by_user == 2


def test_shapes_that_disagree_with_the_config_are_listed(tmp_path):
    source = copy_fixture(TINY, tmp_path / "ckpt")
    config = json.loads((source / "bert_config.json").read_text())
    (source / "bert_config.json").write_text(json.dumps({**config, "intermediate_size": 32}))
    with pytest.raises(ConversionError) as info:
        convert_tf_bert(source, tmp_path / "out")
    message = str(info.value)
    assert "6 shape(s) disagree" in message  # 2 layers x (intermediate kernel + bias, output kernel)
    assert "bert/encoder/layer_0/intermediate/dense/kernel: checkpoint [8, 16], bert_config.json implies [8, 32]" in message
    assert_no_output(tmp_path / "out")


def test_config_with_more_layers_than_the_checkpoint(tmp_path):
    source = copy_fixture(TINY, tmp_path / "ckpt")
    config = json.loads((source / "bert_config.json").read_text())
    (source / "bert_config.json").write_text(json.dumps({**config, "num_hidden_layers": 3}))
    with pytest.raises(ConversionError, match=r"16 variable\(s\) the config implies but the checkpoint lacks:\n  - bert/encoder/layer_2/"):
        convert_tf_bert(source, tmp_path / "out")
    assert_no_output(tmp_path / "out")


def test_truncated_data_file(tmp_path):
    source = copy_fixture(TINY, tmp_path / "ckpt")
    data = source / "bert_model.ckpt.data-00000-of-00001"
    size = data.stat().st_size
    data.write_bytes(data.read_bytes()[: size - 100])
    with pytest.raises(ConversionError, match=rf"data-00000-of-00001: truncated: {size - 100} bytes, the index needs {size}"):
        convert_tf_bert(source, tmp_path / "out")
    assert_no_output(tmp_path / "out")


def test_missing_files_are_listed_together(tmp_path):
    source = copy_fixture(TINY, tmp_path / "ckpt")
    (source / "vocab.txt").unlink()
    (source / "bert_config.json").unlink()
    with pytest.raises(ConversionError, match=r"(?s)bert_config.json: missing \(pass --config\).*vocab.txt: missing \(pass --vocab\)"):
        convert_tf_bert(source, tmp_path / "out")
    source = copy_fixture(TINY, tmp_path / "ckpt2")
    (source / "bert_model.ckpt.data-00000-of-00001").unlink()
    with pytest.raises(ConversionError, match="missing data shard"):
        convert_tf_bert(source, tmp_path / "out")
    assert_no_output(tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConversionError, match="empty: no TensorFlow checkpoint"):
        convert_tf_bert(tmp_path / "empty", tmp_path / "out")


def test_a_config_of_another_architecture_is_refused(tmp_path):
    source = copy_fixture(TINY, tmp_path / "ckpt")
    config = json.loads((source / "bert_config.json").read_text())
    (source / "bert_config.json").write_text(json.dumps({**config, "embedding_size": 4}))
    with pytest.raises(ConversionError, match=r"bert_config.json: not a BERT config:\n  - embedding_size: Extra inputs"):
        convert_tf_bert(source, tmp_path / "out")


def test_cli_reports_ignored_variables_and_errors_without_traceback(tmp_path):
    from mtdnn_core.api import cli as main

    result = CliRunner().invoke(main, ["convert", "tf-bert", str(TINY), str(tmp_path / "out"), "--no-lower-case"])
    assert result.exit_code == 0, result.output
    assert "converted 46 tensors as BertForPreTraining" in result.output
    assert "ignored 5 optimizer slot(s) and step counter(s)" in result.output and "lower-casing off" in result.output
    result = CliRunner().invoke(main, ["convert", "tf-bert", str(TINY), str(tmp_path / "out")])
    assert result.exit_code == 2 and "exists and is not empty; pass --overwrite" in result.output
    assert "Traceback" not in result.output


def test_mtdnn_train_accepts_the_converted_directory(tmp_path, small_data):
    from mtdnn_core.api import cli as main

    convert_tf_bert(TINY, tmp_path / "encoder")
    result = CliRunner().invoke(main, [
        "train", "--plugin", "glue", "--data-dir", str(small_data["glue"]), "--tasks", "rte", "--encoder",
        str(tmp_path / "encoder"), "--epochs", "1", "--batch-size", "8", "--max-seq-len", "16",
        "--max-train-samples", "16", "--max-eval-samples", "8", "--output-dir", str(tmp_path / "run"), "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    assert "finished: 2 updates" in result.output
