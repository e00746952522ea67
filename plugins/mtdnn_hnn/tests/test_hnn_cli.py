"""End to end through the command line with a tiny masked-LM encoder: train on a few DPRD rows,
transfer to WSC273, the ALUM path to an HNN-ready encoder, GLUE neighbours and submission."""
import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main
from mtdnn_core.testing import real_data_dir

SHARED = real_data_dir()
HNN = SHARED / "hnn"
TINY = ["--epochs", "1", "--batch-size", "4", "--lr", "1e-3", "--num-threads", "1", "--no-progress"]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def scores(path):
    return json.loads(Path(path).read_text())


def wsc273_answers():
    answers = []
    for name in ("associative.tsv", "non_associative.tsv"):
        with open(HNN / "WSC273" / name, encoding="utf-8", newline="") as handle:
            for row in list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]:
                answers.append((row[3].split(",")[int(row[4])], int(row[4])))
    return answers


@pytest.mark.real_data("hnn")
def test_train_on_dprd_rows_then_transfer_to_wsc273(tmp_path, tiny_mlm):
    run = tmp_path / "run"
    result = invoke("train", "--plugin", "hnn", "--data-dir", HNN, "--tasks", "dprd", "--encoder", tiny_mlm,
                    "--max-train-samples", 8, "--max-eval-samples", 12, "--output-dir", run, *TINY)
    assert result.exit_code == 0, result.output
    assert "hybrid_accuracy" in result.output and "lm_accuracy" in result.output and "sim_accuracy" in result.output
    during = scores(run / "scores" / "dprd_test.epoch0.json")

    result = invoke("hnn", "evaluate", "--checkpoint", run, "--data-dir", HNN, "--tasks", "wsc273", "--num-threads", 1)
    assert result.exit_code == 0, result.output
    result = invoke("hnn", "evaluate", "--checkpoint", run, "--data-dir", HNN, "--tasks", "dprd", "--max-samples", 12,
                    "--num-threads", 1, "--overwrite")  # the first evaluation's metrics.json is replaced
    assert result.exit_code == 0, result.output
    wsc = scores(run / "hnn-eval" / "scores" / "wsc273_test.hnn.json")
    answers = wsc273_answers()
    assert len(wsc["uids"]) == 273 and wsc["golds"] == [index for _, index in answers]
    hybrid = sum(p == text for p, (text, _) in zip(wsc["predictions"], answers)) / 273 * 100
    lm = sum(p == i for p, (_, i) in zip(wsc["lm_predictions"], answers)) / 273 * 100
    sim = sum(p == i for p, (_, i) in zip(wsc["sim_predictions"], answers)) / 273 * 100
    assert wsc["metrics"]["hybrid_accuracy"] == pytest.approx(hybrid)
    assert wsc["metrics"]["lm_accuracy"] == pytest.approx(lm)
    assert wsc["metrics"]["sim_accuracy"] == pytest.approx(sim)
    assert wsc["metrics"]["majority_baseline"] == pytest.approx(137 / 273 * 100)  # 137 first, 136 second
    # the checkpoint (masked-LM head tied to the encoder's embeddings) reloads to the same scores
    after = scores(run / "hnn-eval" / "scores" / "dprd_test.hnn.json")
    assert after["predictions"] == during["predictions"]
    for a, b in zip(after["scores"], during["scores"]):
        assert a["lm"] == pytest.approx(b["lm"], abs=1e-4) and a["sim"] == pytest.approx(b["sim"], abs=1e-4)


@pytest.mark.real_data("hnn")
@pytest.mark.real_data("mlm")
def test_bare_encoder_is_refused_and_alum_pretrain_makes_it_hnn_ready(tmp_path, tiny_bare):
    train = ["train", "--plugin", "hnn", "--data-dir", HNN, "--tasks", "dprd", "--max-train-samples", 4,
             "--max-eval-samples", 4, *TINY]
    result = invoke(*train, "--encoder", tiny_bare, "--output-dir", tmp_path / "bare")
    assert result.exit_code == 2
    assert "has no masked-LM head" in result.output and "mtdnn alum pretrain --encoder" in result.output
    corpus = tmp_path / "corpus.txt"  # the first 20 paragraphs of the real masked-LM corpus (2 held out)
    records = [json.loads(line)["text"] for line in (SHARED / "mlm" / "mlm_train.json").read_text().splitlines()[:20]]
    paragraphs = [p for text in records for p in text.split("\n") if p.strip()][:20]
    corpus.write_text("".join(p[:300] + "\n" for p in paragraphs))
    result = invoke("alum", "pretrain", "--encoder", tiny_bare, "--corpus", corpus,
                    "--output", tmp_path / "mlm", "--steps", 2, "--batch-size", 2, "--max-seq-len", 32, "--adv-alpha", 0)
    assert result.exit_code == 0, result.output
    result = invoke(*train, "--encoder", tmp_path / "mlm", "--output-dir", tmp_path / "ready")
    assert result.exit_code == 0, result.output


@pytest.mark.real_data("hnn")
def test_trains_next_to_a_glue_task(tmp_path, tiny_mlm):
    pytest.importorskip("mtdnn_glue")
    result = invoke("train", "--plugin", "hnn", "--plugin", "glue", "--tasks", "dprd,rte", "--data-dir", f"dprd={HNN}",
                    "--data-dir", "rte=glue:sample", "--encoder", tiny_mlm, "--max-train-samples", 8,
                    "--max-eval-samples", 8, "--output-dir", tmp_path / "mixed", *TINY)
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "mixed" / "metrics.json").read_text())[-1]["metrics"]
    assert "hybrid_accuracy" in metrics["dprd_test"] and "accuracy" in metrics["rte_dev"]


@pytest.mark.real_data("hnn")
def test_wnli_test_predictions_reach_a_glue_submission(tmp_path, tiny_mlm):
    submission = pytest.importorskip("mtdnn_glue.submission")
    out = tmp_path / "eval"
    result = invoke("hnn", "evaluate", "--encoder", tiny_mlm, "--data-dir", HNN, "--tasks", "hnnwnli",
                    "--splits", "test", "--head-config", "similarity=cosine", "--output-dir", out, "--num-threads", 1)
    assert result.exit_code == 0, result.output
    assert "hnnwnli_test" in result.output and "predictions only" in result.output
    written = submission.write_submission([out], tmp_path / "submission")
    assert written == {"WNLI.tsv": 146}
    lines = (tmp_path / "submission" / "WNLI.tsv").read_text().splitlines()
    assert lines[0] == "index\tprediction"
    assert [line.split("\t")[0] for line in lines[1:]] == [str(i) for i in range(146)]
    assert {line.split("\t")[1] for line in lines[1:]} <= {"0", "1"}


@pytest.mark.real_data("hnn")
def test_help_and_show():
    result = invoke("hnn", "--help")
    assert result.exit_code == 0 and "evaluate" in result.output and "show" in result.output
    result = invoke("hnn", "show", HNN / "DPRD" / "test_annotated.tsv", "--rows", 1)
    assert result.exit_code == 0
    assert "The sniper shot the terrorist because [he] was a bad guy." in result.output
    assert "1. the terrorist <- answer" in result.output
