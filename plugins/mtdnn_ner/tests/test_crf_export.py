"""``mtdnn export`` of a CRF head: a custom-code token-classification model whose pipeline
tags every word as ``mtdnn predict`` does, long sentences windowed alike."""
import json

import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main
from mtdnn_core.testing import real_data_dir
from mtdnn_ner.conll import read_conll

CONLL = real_data_dir() / "conll2003"


def blocks(path):
    return [b.strip() for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip() and not b.startswith("-DOCSTART-")]


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.real_data("conll2003")
def test_crf_export_tags_every_word_as_mtdnn_predict(tmp_path):
    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

    data = tmp_path / "conll"
    data.mkdir()
    (data / "train.txt").write_text("\n\n".join(blocks(CONLL / "train.txt")[:48]) + "\n", encoding="utf-8")
    dev = blocks(CONLL / "valid.txt")
    # 20 real sentences, and 3 long ones: consecutive real sentences joined (windows at 48 tokens)
    long = ["\n".join(dev[i:i + 10]) for i in (20, 30, 40)]
    (data / "valid.txt").write_text("\n\n".join(dev[:20] + long) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    invoke("train", "--plugin", "ner", "--data-dir", f"ner={data}", "--tasks", "ner", "--encoder", "tiny-random-bert",
           "--epochs", "1", "--batch-size", "8", "--max-seq-len", "48", "--lr", "1e-3", "--seed", "3",
           "--output-dir", run, "--no-progress", "--set", "task_overrides={ner: {head: crf}}")
    output = invoke("export", run, "--task", "ner", tmp_path / "export")
    assert "'ner' has no transformers class (head 'crf'" in output
    invoke("predict", "--checkpoint", run, "--task", "ner", "--data", data / "valid.txt", "--output",
           tmp_path / "pred.json", "--device", "cpu")
    ours = json.loads((tmp_path / "pred.json").read_text())["predictions"]
    sentences = [s.column(0) for s in read_conll(data / "valid.txt")]
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "export")
    assert sum(len(tokenizer(w, is_split_into_words=True, verbose=False)["input_ids"]) > 48 for w in sentences) == 3
    with pytest.raises(ValueError, match="trust_remote_code"):
        AutoModelForTokenClassification.from_pretrained(tmp_path / "export")
    tagger = pipeline("token-classification", model=str(tmp_path / "export"), trust_remote_code=True, device="cpu")
    tagged = tagger(sentences, is_split_into_words=True, ignore_labels=[])
    assert [[t["entity"] for t in sentence] for sentence in tagged] == ours
    assert {t["score"] for sentence in tagged for t in sentence} == {1.0}  # as the card says
    assert sum(map(len, ours)) > 400
    card = (tmp_path / "export" / "README.md").read_text(encoding="utf-8")
    assert "Viterbi decision over the words of its window; its `score` is 1.0" in card
    assert "Sentences longer than 48 sub-tokens are split into overlapping windows of whole words" in card
