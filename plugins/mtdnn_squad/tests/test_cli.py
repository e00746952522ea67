"""End to end through the command line with the tiny random encoder on real SQuAD questions."""
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main, complete_task_def, parse_task_defs
from mtdnn_core.testing import real_data_dir
from mtdnn_core.testing import make_host
from mtdnn_squad import plugin

GLUE = real_data_dir() / "glue"
TINY = ["--encoder", "tiny-random-bert", "--epochs", "1", "--batch-size", "8", "--lr", "1e-3", "--no-progress",
        "--num-threads", "1", "--device", "cpu"]
# the original toolkit's experiments/squad/squad_task_def.yml
ORIGINAL_TASK_DEF = """\
squad:
  data_format: CLUE_SPAN
  dropout_p: 0.1
  enable_san: false
  metric_meta:
    - EmF1
  task_type: Span
  loss: SpanCeCriterion
  kd_loss: MseCriterion
  adv_loss: SymKlCriterion
  n_class: 2
  split_names:
  - train
  - dev
squad-v2:
  data_format: CLUE_SPAN
  dropout_p: 0.1
  enable_san: false
  metric_meta:
    - EmF12
  task_type: SpanYN
  loss: SpanCeCriterion
  kd_loss: MseCriterion
  adv_loss: SymKlCriterion
  n_class: 2
  split_names:
  - train
  - dev
"""


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def questions(path: Path) -> list[str]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [q["id"] for a in data["data"] for p in a["paragraphs"] for q in p["qas"]]


def test_train_score_files_official_evaluation_and_predict(tmp_path, squad_dir):
    out = tmp_path / "run"
    result = run("train", "--plugin", "squad", "--data-dir", squad_dir, "--tasks", "squadv2", "--output-dir", out,
                 "--max-train-samples", "40", *TINY)
    assert "squadv2_dev" in result.output and "squad_v2_best_f1" in result.output
    scores = out / "scores"
    record = json.loads((scores / "squadv2_dev.epoch0.json").read_text())
    predictions = json.loads((scores / "squadv2_dev.epoch0.predictions.json").read_text())
    null_odds = json.loads((scores / "squadv2_dev.epoch0.null_odds.json").read_text())
    nbest = json.loads((scores / "squadv2_dev.epoch0.nbest_predictions.json").read_text())
    dev = squad_dir / "dev-v2.0.json"
    assert list(predictions) == list(null_odds) == list(nbest) == questions(dev) == record["uids"]
    assert list(predictions.values()) == record["predictions"]
    for uid, entries in nbest.items():  # 20 best spans at most, plus the null entry
        assert 1 <= len(entries) <= 21 and abs(sum(e["probability"] for e in entries) - 1) < 1e-6
        best = max((e for e in entries if e["text"]), key=lambda e: e["start_logit"] + e["end_logit"])
        null = next(e for e in entries if e["text"] == "")
        odds = null["start_logit"] + null["end_logit"] - best["start_logit"] - best["end_logit"]
        assert abs(odds - null_odds[uid]) < 1e-6
        assert predictions[uid] == ("" if odds > 0 else best["text"])
    # the official numbers for the written files are those of the run
    official = run("squad", "evaluate", dev, scores / "squadv2_dev.epoch0.predictions.json",
                   "--na-prob-file", scores / "squadv2_dev.epoch0.null_odds.json")
    assert json.loads(official.output) == record["metrics"]["squad_v2_report"]
    # the checkpoint predicts the same answers for the same file, and answers unlabeled questions
    run("predict", "--checkpoint", out, "--task", "squadv2", "--data", dev, "--output", tmp_path / "p.json", "--device", "cpu")
    assert json.loads((tmp_path / "p.predictions.json").read_text()) == predictions
    data = json.loads(dev.read_text())
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            paragraph["qas"] = [{"id": q["id"], "question": q["question"]} for q in paragraph["qas"]]
    (tmp_path / "ask.json").write_text(json.dumps(data))
    run("predict", "--checkpoint", out, "--task", "squadv2", "--data", tmp_path / "ask.json", "--device", "cpu")
    asked = json.loads((tmp_path / "ask.pred.json").read_text())
    assert asked["metrics"] == {} and asked["predictions"] == record["predictions"]


@pytest.mark.real_data("glue")
def test_squad_1_1_and_2_0_train_jointly_with_glue(tmp_path, sample, squad_dir):
    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "squad_train.json").write_text((squad_dir / "train-v2.0.json").read_text())  # 2.0 data: unanswerable left out
    (v1 / "squad_dev.json").write_text((squad_dir / "dev-v2.0.json").read_text())
    with pytest.warns(UserWarning, match=r"unanswerable question\(s\) left out of task 'squad'") as caught:
        result = run("train", "--plugin", "squad", "--plugin", "glue", "--data-dir", f"squad={v1}",
                     "--data-dir", f"squadv2={squad_dir}", "--data-dir", GLUE, "--tasks", "squad,squadv2,rte",
                     "--max-train-samples", "24", "--max-eval-samples", "16", "--output-dir", tmp_path / "o", *TINY)
    left_out = [re.search(r"(\w+)\.json: (\d+) unanswerable", str(w.message)) for w in caught]
    assert sorted((m[1], int(m[2])) for m in left_out if m) == [("squad_dev", 10), ("squad_train", 51)]
    for dataset in ("squad_dev", "squadv2_dev", "rte_dev"):
        assert dataset in result.output
    assert "squad_em" in result.output and "squad_v2_exact" in result.output and "accuracy" in result.output
    assert not (tmp_path / "o" / "scores" / "squad_dev.epoch0.null_odds.json").exists()  # 1.1 has no null odds
    assert (tmp_path / "o" / "scores" / "squad_dev.epoch0.nbest_predictions.json").is_file()


def test_the_original_task_definitions_load_and_run(tmp_path, squad_dir):
    path = tmp_path / "squad_task_def.yml"
    path.write_text(ORIGINAL_TASK_DEF)
    assert run("validate", "--plugin", "squad", path).output.startswith("ok")
    host = make_host(plugin)
    defs = {n: complete_task_def(d, host.registries.task_types) for n, d in parse_task_defs(ORIGINAL_TASK_DEF).items()}
    assert (defs["squad-v2"].task_type, defs["squad-v2"].head, defs["squad"].task_type) == ("span_v2", "span", "span")
    assert host.registries.losses.get(defs["squad"].loss).name == "span_ce"
    assert host.registries.metrics.get("EmF12").name == "squad_v2_report"
    assert host.registries.data_formats.get("CLUE_SPAN").name == "squad_json"
    # the original's max_seq_len was a preprocessing option: give it on the command line
    run("train", "--plugin", "squad", "--task-def", path, "--tasks", "squad-v2", "--data-dir", squad_dir,
        "--max-seq-len", "384", "--output-dir", tmp_path / "o", *TINY[:2], "--epochs", "0", "--no-progress")
    record = json.loads((tmp_path / "o" / "scores" / "squad-v2_dev.initial.json").read_text())
    assert set(record["metrics"]) == {"squad_v2_report"} and record["metrics"]["squad_v2_report"]["total"] == len(record["uids"])


def test_evaluate_command_rules_and_messages(tmp_path, write_squad):
    context = "The Normans gave their name to Normandy, a region in France."
    qas = [{"id": "a", "question": "Where?", "answers": [{"text": "France", "answer_start": 53}]},
           {"id": "b", "question": "Who?", "answers": [{"text": "The Normans", "answer_start": 0}]}]
    data = write_squad(tmp_path / "dev-v1.1.json", context, qas, version="1.1")
    (tmp_path / "p.json").write_text(json.dumps({"a": "france", "x": "?"}))
    result = CliRunner().invoke(main, ["squad", "evaluate", str(data), str(tmp_path / "p.json")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"exact_match": 50.0, "f1": 50.0, "missing": 1}
    assert "1 question(s) without a prediction score 0 (e.g. b)" in result.stderr
    assert "1 prediction(s) for question ids not in" in result.stderr
    (tmp_path / "bad.json").write_text(json.dumps({"a": 3}))
    result = CliRunner().invoke(main, ["squad", "evaluate", str(data), str(tmp_path / "bad.json")])
    assert result.exit_code == 2 and "bad.json: question a: expected an answer text, got int" in result.output
    help_text = run("squad", "--help").output
    assert "download" in help_text and "evaluate" in help_text and "squadv2" in help_text
