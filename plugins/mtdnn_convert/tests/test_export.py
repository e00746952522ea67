"""``mtdnn export``: the exported Hugging Face models predict what ``mtdnn predict`` predicts on
real rows; heads without an equivalent export as custom code; failures leave nothing."""
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from mtdnn_core.api import MtdnnError, cli as main


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
    with pytest.raises(ValueError, match="trust_remote_code"):  # the windowing pipeline is the export's own code
        pipeline("token-classification", model=str(tmp_path / "ner"), device="cpu")
    tagger = pipeline("token-classification", model=str(tmp_path / "ner"), device="cpu", trust_remote_code=True)
    sentences = [s.column(0) for s in read_conll(dev)]
    compared = 0
    for words, tagged, predicted in zip(sentences, tagger(sentences, is_split_into_words=True, ignore_labels=[]),
                                        ours["predictions"]):
        assert [t["index"] for t in tagged] == list(range(len(words)))
        assert [t["word"] for t in tagged] == words
        text = " ".join(words)
        assert [text[t["start"]:t["end"]] for t in tagged] == words
        assert [t["entity"] for t in tagged] == predicted
        compared += len(words)
    assert compared > 200
    # the same logits, not only the same arg-max
    from mtdnn_core.api import PluginHost, load_for_inference

    model, tokenizer, _, _ = load_for_inference(trained_run, PluginHost(["glue", "ner"]))
    batch = dict(tokenizer([sentences[1]], is_split_into_words=True, return_tensors="pt"))
    exported = AutoModelForTokenClassification.from_pretrained(tmp_path / "ner").eval()
    with torch.no_grad():
        assert torch.allclose(exported(**batch).logits, model("ner", batch), atol=1e-5)


def long_sentences(dev, target, per_sentence=8):
    """Real dev sentences joined into long ones (CoNLL blocks without their blank separators)."""
    blocks = [b for b in dev.read_text(encoding="utf-8").split("\n\n") if b.strip() and not b.startswith("-DOCSTART-")]
    joined = ["\n".join(b.strip() for b in blocks[i:i + per_sentence]) for i in range(0, len(blocks), per_sentence)]
    target.write_text("\n\n".join(joined) + "\n", encoding="utf-8")
    return target


def test_token_export_windows_long_sentences_as_mtdnn(trained_run, small_data, tmp_path):
    from transformers import AutoTokenizer, pipeline

    from mtdnn_ner.conll import read_conll

    export(trained_run, "ner", tmp_path / "ner")
    data = long_sentences(small_data["conll"] / "valid.txt", tmp_path / "long.txt")
    sentences = [s.column(0) for s in read_conll(data)]
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "ner")
    lengths = [len(tokenizer(words, is_split_into_words=True, verbose=False)["input_ids"]) for words in sentences]
    assert tokenizer.model_max_length == 64 and sum(n > 64 for n in lengths) >= 2  # these need windows
    ours = mtdnn_predict(trained_run, "ner", data, tmp_path / "pred.json")
    tagger = pipeline("token-classification", model=str(tmp_path / "ner"), device="cpu", trust_remote_code=True)
    tagged = tagger(sentences, is_split_into_words=True, ignore_labels=[])
    assert [[t["entity"] for t in sentence] for sentence in tagged] == ours["predictions"]
    assert sum(len(words) for words in sentences) > 300
    with pytest.raises(ValueError, match="not stride: it windows long sentences .* as mtdnn does"):
        tagger(sentences[0], is_split_into_words=True, stride=16)  # other windows would tag other words


def test_san_head_exports_custom_code_that_predicts_like_mtdnn(trained_run, small_data, tmp_path):
    from transformers import AutoConfig, AutoModelForSequenceClassification, pipeline

    output = export(trained_run, "mrpc", tmp_path / "mrpc")
    assert "'mrpc' has no transformers class (head 'san'" in output and "trust_remote_code=True" in output
    assert {p.name for p in (tmp_path / "mrpc").iterdir()} == {"config.json", "model.safetensors", "modeling_mtdnn.py",
                                                               "README.md", "tokenizer.json", "tokenizer_config.json"}
    for load in (AutoConfig.from_pretrained, AutoModelForSequenceClassification.from_pretrained):
        with pytest.raises(ValueError, match="trust_remote_code"):  # never a random classifier
            load(tmp_path / "mrpc")
    with pytest.raises(ValueError, match="trust_remote_code"):
        pipeline("text-classification", model=str(tmp_path / "mrpc"), device="cpu")
    dev = small_data["glue"] / "mrpc_dev.tsv"
    ours = mtdnn_predict(trained_run, "mrpc", dev, tmp_path / "pred.json")
    classify = pipeline("text-classification", model=str(tmp_path / "mrpc"), device="cpu", trust_remote_code=True)
    theirs = classify([{"text": r[2], "text_pair": r[3]} for r in canonical_rows(dev)], truncation=True, top_k=None)
    assert len(theirs) == len(ours["predictions"]) == 24
    labels = AutoConfig.from_pretrained(tmp_path / "mrpc", trust_remote_code=True).id2label
    for hf, label, scores in zip(theirs, ours["predictions"], ours["scores"]):
        assert max(hf, key=lambda x: x["score"])["label"] == str(label)  # mrpc has no label names: 0, 1
        by_label = {x["label"]: x["score"] for x in hf}
        assert [by_label[labels[i]] for i in range(len(labels))] == pytest.approx(scores, abs=1e-5)


def test_custom_code_needs_only_torch_and_transformers(trained_run, tmp_path):
    import ast
    import subprocess
    import sys

    from transformers.dynamic_module_utils import HF_MODULES_CACHE

    cache = Path(HF_MODULES_CACHE) / "transformers_modules"
    before = set(cache.iterdir()) if cache.is_dir() else set()
    export(trained_run, "mrpc", tmp_path / "mrpc")
    after = set(cache.iterdir()) if cache.is_dir() else set()
    assert after == before  # the check before writing leaves nothing in transformers' module cache
    tree = ast.parse((tmp_path / "mrpc" / "modeling_mtdnn.py").read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"torch", "transformers"}
    script = (  # a serving process where no mtdnn package can be imported
        "import sys\n"
        "for name in ('mtdnn_core', 'mtdnn_convert', 'mtdnn_glue', 'mtdnn_ner'): sys.modules[name] = None\n"
        "from transformers import pipeline\n"
        f"clf = pipeline('text-classification', model={str(tmp_path / 'mrpc')!r}, trust_remote_code=True, device='cpu')\n"
        "print(clf({'text': 'A premise.', 'text_pair': 'Its paraphrase.'})['label'])\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "mrpc" / "config.json").read_text())
    assert result.stdout.strip().splitlines()[-1] in config["id2label"].values()


def test_a_head_no_plugin_exports_is_refused_and_nothing_is_written(trained_run, tmp_path, monkeypatch):
    from mtdnn_convert.errors import ConversionError
    from mtdnn_convert.export import export_task

    monkeypatch.setattr("mtdnn_convert.core_heads.export_core_head", lambda head, task: None)
    with pytest.raises(ConversionError, match="no loaded plugin exports head 'san' .*implement the export_head hook"):
        export_task(trained_run, "mrpc", tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


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
    from mtdnn_core.api import TaskDef

    return TaskDef(name="t", task_type="classification", data_format="PremiseOnly", labels=[f"l{i}" for i in range(n_labels)])


def test_roberta_style_encoders_use_their_classification_head():
    from transformers import RobertaConfig, RobertaModel

    from mtdnn_convert.hf_heads import hf_model_for
    from mtdnn_core.api import PoolerHead

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
    from mtdnn_core.api import PoolerHead, load_tiny_random_bert

    encoder, _ = load_tiny_random_bert()
    with pytest.raises(NoEquivalent, match="the pooler head uses GELU; Hugging Face classifiers use tanh"):
        hf_model_for(encoder, PoolerHead(32, tiny_task(), activation="gelu"), tiny_task())


def perturbed(module, seed=1):
    """Weights away from their initial values (zero biases would hide a misplaced one)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.add_(torch.randn(param.shape, generator=generator) * 0.1)
    return module.eval()


def test_a_gelu_pooler_exports_as_custom_code_with_its_own_activation(tmp_path):
    from transformers import AutoTokenizer

    from mtdnn_convert.core_heads import export_core_head
    from mtdnn_convert.custom_code import load_custom_model, write_custom_model
    from mtdnn_core.api import PoolerHead, load_tiny_random_bert, packaged_minilm_path

    encoder, tokenizer = load_tiny_random_bert()
    encoder.eval()
    head = perturbed(PoolerHead(32, tiny_task(), activation="gelu"))
    spec = export_core_head(head, tiny_task())
    auto_class, model_class = write_custom_model(tmp_path, encoder, spec, {0: "l0", 1: "l1", 2: "l2"},
                                                 "single_label_classification", tokenizer, True, 64)
    assert auto_class == "AutoModelForSequenceClassification"
    AutoTokenizer.from_pretrained(packaged_minilm_path()).save_pretrained(tmp_path)
    exported = load_custom_model(tmp_path, model_class)
    batch = tokenizer(["A sentence to classify.", "Another, longer sentence to classify here."], padding=True,
                      return_tensors="pt")
    with torch.no_grad():
        hidden = encoder(**batch).last_hidden_state
        # the mtdnn head by hand: first token -> dense -> exact GELU -> out
        expected = head.out(torch.nn.functional.gelu(head.dense(hidden[:, 0])))
        assert torch.allclose(exported(**batch).logits, expected, atol=1e-6)


def test_a_ranking_head_is_a_one_score_sequence_classifier():
    from mtdnn_convert.hf_heads import hf_model_for
    from mtdnn_core.api import RankingHead, TaskDef, load_tiny_random_bert

    task = TaskDef(name="qnli_rank", task_type="ranking", data_format="PremiseAndMultiHypothesis", n_class=1)
    encoder, tokenizer = load_tiny_random_bert()
    encoder.eval()
    head = perturbed(RankingHead(32, task, dropout=0.0))
    exported = hf_model_for(encoder, head, task)
    assert type(exported.model).__name__ == "BertForSequenceClassification"
    assert exported.model.config.problem_type == "regression"  # the pipeline returns the raw score
    batch = tokenizer(["Which city?"] * 3, ["Paris is a city.", "It rains.", "A river."], padding=True, return_tensors="pt")
    with torch.no_grad():
        scores = head(encoder(**batch).last_hidden_state, {"candidate_mask": torch.ones(1, 3, dtype=torch.bool)})
        assert torch.allclose(exported.model(**batch).logits.reshape(1, 3), scores, atol=1e-6)


def card_code(directory):
    """The python block of an export's model card, run against the export."""
    card = (directory / "README.md").read_text(encoding="utf-8")
    use = card[card.index("## Use"):]
    code = use[use.index("```python") + len("```python"):use.index("```", use.index("```python") + 3)]
    *setup, last = code.strip().splitlines()
    scope = {}
    exec("\n".join(setup), scope)
    return card, eval(last, scope)


def test_model_cards_say_how_to_call_each_export(trained_run, tmp_path):
    from transformers import AutoConfig

    export(trained_run, "mrpc", tmp_path / "mrpc")
    card, answer = card_code(tmp_path / "mrpc")
    assert answer["label"] in {"0", "1"} and 0 <= answer["score"] <= 1
    assert "fails (the `model_type` `mtdnn-export` is unknown to transformers)" in card
    with pytest.raises(ValueError, match="trust_remote_code"):
        AutoConfig.from_pretrained(tmp_path / "mrpc")
    assert "Inputs longer than 64 tokens are truncated (longest first)" in card
    export(trained_run, "ner", tmp_path / "ner")
    card, answer = card_code(tmp_path / "ner")
    assert [(x["index"], x["word"], x["start"], x["end"]) for x in answer] == [
        (0, "EU", 0, 2), (1, "rejects", 3, 10), (2, "German", 11, 17), (3, "call", 18, 22)]
    labels = AutoConfig.from_pretrained(tmp_path / "ner").id2label.values()
    assert all(x["entity"] in labels for x in answer)
    assert "Sentences longer than 64 sub-tokens are split into overlapping windows of whole words" in card
    assert "truncated" not in card.split("## Training configuration")[0]
    from transformers import pipeline

    tagger = pipeline("token-classification", model=str(tmp_path / "ner"), trust_remote_code=True, device="cpu")
    assert "A plain string is split on whitespace" in card
    assert tagger("EU rejects  German call", ignore_labels=[]) == answer
    assert 'Labels in `ignore_labels` (default `["O"]`) are left out' in card
    assert tagger(["EU", "rejects", "German", "call"], is_split_into_words=True) == [x for x in answer if x["entity"] != "O"]


@pytest.mark.parametrize("use_token_types", [True, False])
def test_exported_segment_ids_are_the_tokenizers_sequence_ids(use_token_types):
    """What mtdnn's features hold (sequence ids, -1 for special tokens and padding), computed by
    the exported code from what the tokenizer gives, with or without token types."""
    import importlib.util

    from transformers import AutoTokenizer

    from mtdnn_convert.remote_code import HERE
    from mtdnn_core.api import packaged_minilm_path
    from mtdnn_core.testing import real_data

    spec = importlib.util.spec_from_file_location("exported_modeling", HERE / "modeling_mtdnn.py")
    modeling = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(modeling)
    tokenizer = AutoTokenizer.from_pretrained(packaged_minilm_path())
    lines = real_data("glue", "RTE", "dev.tsv").read_text(encoding="utf-8").splitlines()[1:41]
    rows = [line.split("\t")[1:3] for line in lines]
    pairs = tokenizer([r[0] for r in rows], [r[1] for r in rows], truncation="longest_first", max_length=64,
                      padding=True, return_tensors="pt")
    singles = tokenizer([r[1] for r in rows], truncation=True, max_length=64, padding=True, return_tensors="pt")
    for encoding in (pairs, singles):
        expected = [[-1 if s is None or not m else s for s, m in zip(encoding.sequence_ids(i), encoding["attention_mask"][i])]
                    for i in range(len(rows))]
        got = modeling.segment_ids(encoding["input_ids"], encoding["attention_mask"], encoding["token_type_ids"],
                                   tokenizer.all_special_ids, use_token_types)
        assert got.tolist() == expected


def test_exports_of_earlier_versions_still_load_with_load_head(tmp_path):
    """Earlier versions wrote SAN and other heads as mtdnn_head.safetensors/json beside the encoder."""
    from mtdnn_convert.head_files import load_head, save_head
    from mtdnn_core.api import SANHead, TaskDef, load_tiny_random_bert

    task = TaskDef(name="rte", task_type="classification", data_format="PremiseAndOneHypothesis", n_class=2, head="san")
    encoder, tokenizer = load_tiny_random_bert()
    head = perturbed(SANHead(32, task))
    encoder.save_pretrained(tmp_path)
    save_head(head, task, 32, "no equivalent", [], tmp_path)
    loaded_encoder, loaded_head = load_head(tmp_path)
    encoded = tokenizer(["A premise."], ["Its hypothesis."], return_tensors="pt")
    batch = {**encoded, "segment_ids": torch.tensor([[-1 if s is None else s for s in encoded.sequence_ids(0)]])}
    with torch.no_grad():
        expected = head(encoder.eval()(**encoded).last_hidden_state, batch)
        assert torch.allclose(loaded_head(loaded_encoder(**encoded).last_hidden_state, batch), expected, atol=1e-6)


def test_a_token_head_exports_as_custom_code_where_no_class_fits(tmp_path):
    from mtdnn_convert.core_heads import export_core_head
    from mtdnn_convert.custom_code import load_custom_model, write_custom_model
    from mtdnn_core.api import TaskDef, TokenHead, load_tiny_random_bert

    task = TaskDef(name="tags", task_type="sequence_labeling", data_format="Sequence", labels=["O", "B-X", "I-X"])
    encoder, tokenizer = load_tiny_random_bert()
    encoder.eval()
    head = perturbed(TokenHead(32, task))
    _, model_class = write_custom_model(tmp_path, encoder, export_core_head(head, task), {0: "O", 1: "B-X", 2: "I-X"},
                                        None, tokenizer, True, 64)
    assert (tmp_path / "pipeline_mtdnn.py").is_file()  # the windowing pipeline comes with it
    exported = load_custom_model(tmp_path, model_class)
    batch = tokenizer([["Some", "words", "here"]], is_split_into_words=True, return_tensors="pt")
    with torch.no_grad():
        expected = head.out(encoder(**batch).last_hidden_state)  # Linear on every token, by hand
        assert torch.allclose(exported(**batch).logits, expected, atol=1e-6)
