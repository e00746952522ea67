"""``mtdnn export`` of a span head: a custom-code model whose question-answering pipeline
answers as ``mtdnn predict`` does, long contexts windowed alike."""
import json
import shutil

import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def questions(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(q["id"], q["question"], p["context"]) for a in data["data"] for p in a["paragraphs"] for q in p["qas"]]


def test_span_export_answers_as_mtdnn_predict(tmp_path, squad_dir):
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, pipeline

    out, export = tmp_path / "run", tmp_path / "export"
    run("train", "--plugin", "squad", "--data-dir", squad_dir, "--tasks", "squadv2", "--output-dir", out,
        "--max-train-samples", "40", "--encoder", "tiny-random-bert", "--epochs", "1", "--batch-size", "8",
        "--lr", "1e-3", "--no-progress", "--set", "task_overrides={squadv2: {max_seq_len: 128, head_config: {doc_stride: 48}}}")
    output = run("export", out, "--task", "squadv2", export)
    assert "'squadv2' has no transformers class (head 'span'" in output
    dev = squad_dir / "dev-v2.0.json"
    run("predict", "--checkpoint", out, "--task", "squadv2", "--data", dev, "--output", tmp_path / "p.json", "--device", "cpu")
    predictions = json.loads((tmp_path / "p.predictions.json").read_text())
    null_odds = json.loads((tmp_path / "p.null_odds.json").read_text())
    nbest = json.loads((tmp_path / "p.nbest_predictions.json").read_text())
    asked = questions(dev)
    tokenizer = AutoTokenizer.from_pretrained(export)
    assert all(len(tokenizer(q, c)["input_ids"]) > 128 for _, q, c in asked[:5])  # several windows each
    with pytest.raises(ValueError, match="trust_remote_code"):
        AutoModelForQuestionAnswering.from_pretrained(export)
    qa = pipeline("question-answering", model=str(export), trust_remote_code=True, device="cpu")
    answers = qa([{"question": q, "context": c} for _, q, c in asked])
    assert [a["answer"] for a in answers] == [predictions[uid] for uid, _, _ in asked]
    assert [a["null_odds"] for a in answers] == pytest.approx([null_odds[uid] for uid, _, _ in asked], abs=1e-4)
    # the best span itself, with "no answer" switched off in the export's settings
    spans = tmp_path / "spans"
    shutil.copytree(export, spans)
    config = json.loads((spans / "config.json").read_text())
    config["head_settings"]["null_threshold"] = 1e12
    (spans / "config.json").write_text(json.dumps(config))
    answers = pipeline("question-answering", model=str(spans), trust_remote_code=True, device="cpu")(
        [{"question": q, "context": c} for _, q, c in asked])
    best = [next(e for e in nbest[uid] if e["text"]) for uid, _, _ in asked]
    assert [a["answer"] for a in answers] == [b["text"] for b in best]
    assert [a["score"] for a in answers] == pytest.approx([b["probability"] for b in best], abs=1e-5)
    assert all(c[a["start"]:a["end"]] == a["answer"] for a, (_, _, c) in zip(answers, asked))
    assert len(asked) == 20
    with pytest.raises(ValueError, match="not max_answer_len: windows and decoding follow the task's settings"):
        qa(question=asked[0][1], context=asked[0][2], max_answer_len=5)
    card = (export / "README.md").read_text(encoding="utf-8")
    assert 'pipeline("question-answering", model=' in card and "trust_remote_code=True" in card
    assert "the question cut to 64 tokens, the context in windows sharing 48 tokens" in card
    assert "A question and its context go into windows of 128 tokens" in card and "truncated" not in card
