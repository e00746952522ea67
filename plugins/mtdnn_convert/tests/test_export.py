"""``mtdnn export``: the exported Hugging Face models predict what ``mtdnn predict`` predicts on
real rows; heads without an equivalent travel as mtdnn head files; failures leave nothing."""
import json

import pytest
import torch
from click.testing import CliRunner

from mtdnn_core.cli import main
from mtdnn_core.errors import MtdnnError


def canonical_rows(path):
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


def mtdnn_predict(run, task, data, out):
    result = CliRunner().invoke(main, ["predict", "--checkpoint", str(run), "--task", task, "--data", str(data),
                                       "--output", str(out), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def export(run, task, target, *extra):
    result = CliRunner().invoke(main, ["export", str(run), "--task", task, str(target), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def test_classification_export_predicts_like_mtdnn(trained_run, small_data, tmp_path):
    from transformers import AutoModelForSequenceClassification, pipeline

    output = export(trained_run, "rte", tmp_path / "rte")
    assert "BertForSequenceClassification" in output
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "rte")
    assert model.config.id2label == {0: "not_entailment", 1: "entailment"}
    assert model.config.problem_type == "single_label_classification"
    dev = small_data["glue"] / "rte_dev.tsv"
    ours = mtdnn_predict(trained_run, "rte", dev, tmp_path / "pred.json")
    classify = pipeline("text-classification", model=str(tmp_path / "rte"), device="cpu")
    rows = canonical_rows(dev)
    theirs = classify([{"text": r[2], "text_pair": r[3]} for r in rows], truncation=True, top_k=None)
    assert len(theirs) == len(ours["predictions"]) == 24
    for hf, label, scores in zip(theirs, ours["predictions"], ours["scores"]):
        best = max(hf, key=lambda x: x["score"])
        assert best["label"] == label
        by_label = {x["label"]: x["score"] for x in hf}
        assert [by_label["not_entailment"], by_label["entailment"]] == pytest.approx(scores, abs=1e-5)
    card = (tmp_path / "rte" / "README.md").read_text()
    assert "pipeline_tag: text-classification" in card and "| rte_dev | accuracy |" in card
    assert "tasks:\n- rte\n- stsb\n- mrpc\n- ner" in card  # the training config


def test_regression_export(trained_run, small_data, tmp_path):
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    hf_logging.enable_progress_bar()
    export(trained_run, "stsb", tmp_path / "stsb")
    assert hf_logging.is_progress_bar_enabled()  # the user's setting, not switched off for the process
    config = json.loads((tmp_path / "stsb" / "config.json").read_text())
    assert config["problem_type"] == "regression" and config["id2label"] == {"0": "stsb"}
    dev = small_data["glue"] / "stsb_dev.tsv"
    ours = mtdnn_predict(trained_run, "stsb", dev, tmp_path / "pred.json")
    score = pipeline("text-classification", model=str(tmp_path / "stsb"), device="cpu")
    theirs = score([{"text": r[2], "text_pair": r[3]} for r in canonical_rows(dev)], truncation=True)
    assert [t["score"] for t in theirs] == pytest.approx(ours["predictions"], abs=1e-5)  # no sigmoid: raw values


def test_token_classification_export_matches_on_first_sub_tokens(trained_run, small_data, tmp_path):
    from transformers import AutoModelForTokenClassification, pipeline

    from mtdnn_ner.conll import read_conll

    export(trained_run, "ner", tmp_path / "ner")
    assert AutoModelForTokenClassification.from_pretrained(tmp_path / "ner").config.id2label[1] == "B-PER"
    dev = small_data["conll"] / "valid.txt"
    ours = mtdnn_predict(trained_run, "ner", dev, tmp_path / "pred.json")
    tagger = pipeline("token-classification", model=str(tmp_path / "ner"), device="cpu", ignore_labels=[])
    sentences = [s.column(0) for s in read_conll(dev)]
    compared = 0
    for words, tokens, predicted in zip(sentences, tagger(sentences, is_split_into_words=True), ours["predictions"]):
        starts, position = {}, 0
        for i, word in enumerate(words):  # the pipeline joins the words with single spaces
            starts[position] = i
            position += len(word) + 1
        first = {starts[t["start"]]: t["entity"] for t in tokens if t["start"] in starts}
        assert [first[i] for i in range(len(words))] == predicted
        compared += len(words)
    assert compared > 200
    # the same logits, not only the same arg-max
    from mtdnn_core.plugins import PluginHost
    from mtdnn_core.training.inference import load_for_inference

    model, tokenizer, _, _ = load_for_inference(trained_run, PluginHost(["glue", "ner"]))
    batch = dict(tokenizer([sentences[1]], is_split_into_words=True, return_tensors="pt"))
    exported = AutoModelForTokenClassification.from_pretrained(tmp_path / "ner").eval()
    with torch.no_grad():
        assert torch.allclose(exported(**batch).logits, model("ner", batch), atol=1e-5)


def test_san_head_exports_the_encoder_and_mtdnn_head_files(trained_run, tmp_path):
    from mtdnn_core.plugins import PluginHost
    from mtdnn_core.training.inference import load_for_inference
    from mtdnn_convert.head_files import load_head

    output = export(trained_run, "mrpc", tmp_path / "mrpc")
    assert "'mrpc' has no Hugging Face equivalent: head 'san'" in output
    assert {p.name for p in (tmp_path / "mrpc").iterdir()} >= {"config.json", "model.safetensors", "mtdnn_head.json",
                                                               "mtdnn_head.safetensors", "README.md", "tokenizer.json"}
    encoder, head = load_head(tmp_path / "mrpc")
    model, tokenizer, _, _ = load_for_inference(trained_run, PluginHost(["glue", "ner"]))
    encoded = tokenizer(["A short premise."], ["And its hypothesis."], return_tensors="pt")
    batch = dict(encoded)  # the SAN head also reads which text each token belongs to (-1: special tokens)
    batch["segment_ids"] = torch.tensor([[-1 if s is None else s for s in encoded.sequence_ids(0)]])
    with torch.no_grad():
        rebuilt = head(encoder(**batch).last_hidden_state, batch)
        assert torch.allclose(rebuilt, model("mrpc", batch), atol=1e-6)


def test_failures_leave_no_output(trained_run, tmp_path, monkeypatch):
    from mtdnn_convert.errors import ConversionError
    from mtdnn_convert.export import export_task
    from mtdnn_convert.hub import push_to_hub

    with pytest.raises(MtdnnError, match="no task in this checkpoint 'nope'"):
        export_task(trained_run, "nope", tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.tmp*"))
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)  # whatever token this machine has
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConversionError, match="cannot push to me/rte: HF_HUB_OFFLINE is set; the export in .* is complete"):
        push_to_hub(tmp_path, "me/rte")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with pytest.raises(ConversionError, match="no Hugging Face token"):
        push_to_hub(tmp_path, "me/rte")


def tiny_task(n_labels=3):
    from mtdnn_core.config import TaskDef

    return TaskDef(name="t", task_type="classification", data_format="PremiseOnly", labels=[f"l{i}" for i in range(n_labels)])


def test_roberta_style_encoders_use_their_classification_head():
    from transformers import RobertaConfig, RobertaModel

    from mtdnn_convert.hf_heads import hf_model_for
    from mtdnn_core.model.heads import PoolerHead

    torch.manual_seed(0)
    encoder = RobertaModel(RobertaConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                         intermediate_size=16, max_position_embeddings=40, type_vocab_size=1)).eval()
    head = PoolerHead(8, tiny_task(), activation="tanh", dropout=0.0).eval()
    exported = hf_model_for(encoder, head, tiny_task())
    assert exported.layout == "classifier.dense + classifier.out_proj"
    ids = torch.tensor([[0, 7, 9, 11, 2]])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        expected = head(encoder(input_ids=ids, attention_mask=mask).last_hidden_state, {})
        assert torch.allclose(exported.model(input_ids=ids, attention_mask=mask).logits, expected, atol=1e-6)


def test_a_pooler_with_another_activation_has_no_equivalent():
    from mtdnn_convert.hf_heads import NoEquivalent, hf_model_for
    from mtdnn_core.model.encoder import load_tiny_random_bert
    from mtdnn_core.model.heads import PoolerHead

    encoder, _ = load_tiny_random_bert()
    with pytest.raises(NoEquivalent, match="the pooler head uses GELU; Hugging Face classifiers use tanh"):
        hf_model_for(encoder, PoolerHead(32, tiny_task(), activation="gelu"), tiny_task())
