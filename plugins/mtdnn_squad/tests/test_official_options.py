"""``squad evaluate`` and ``squad threshold`` follow the official SQuAD 2.0 script on every
option: ``-t`` without a na-prob file, equal na-probs, and non-finite numbers; the expected
numbers are worked out by hand in each test."""
import json

from click.testing import CliRunner

from mtdnn_core.api import cli as main

CONTEXT = "The Normans gave their name to Normandy, a region in France."


def _data(tmp_path, write_squad, questions):
    qas = []
    for qid, answer in questions:
        if answer:
            qas.append({"id": qid, "question": "?", "answers": [{"text": answer, "answer_start": CONTEXT.index(answer)}]})
        else:
            qas.append({"id": qid, "question": "?", "answers": [], "is_impossible": True})
    return write_squad(tmp_path / "dev-v2.0.json", CONTEXT, qas)


def _evaluate(*args):
    return CliRunner().invoke(main, ["squad", "evaluate", *map(str, args)])


def test_threshold_below_zero_without_na_prob_file_answers_nothing(tmp_path, write_squad):
    # q1 has an answer and is right, q2 has one and is missed, q3/q4 have none and predict none
    data = _data(tmp_path, write_squad, [("q1", "France"), ("q2", "Normans"), ("q3", None), ("q4", None)])
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps({"q1": "France", "q2": "", "q3": "", "q4": ""}))
    result = _evaluate(data, preds)  # default 1.0: the official na-probs are all 0, nothing changes: 3/4
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"exact": 75.0, "f1": 75.0, "total": 4, "HasAns_exact": 50.0, "HasAns_f1": 50.0,
                                         "HasAns_total": 2, "NoAns_exact": 100.0, "NoAns_f1": 100.0, "NoAns_total": 2}
    result = _evaluate(data, preds, "-t", "-1")  # 0 > -1 everywhere: every question "no answer": 2/4
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"exact": 50.0, "f1": 50.0, "total": 4, "HasAns_exact": 0.0, "HasAns_f1": 0.0,
                                         "HasAns_total": 2, "NoAns_exact": 100.0, "NoAns_f1": 100.0, "NoAns_total": 2}


def test_equal_na_probs_are_taken_in_the_na_prob_files_order(tmp_path, write_squad):
    # a: answerable, answered right (+1); b: unanswerable, answered "Normans" (-1); both na-prob 0.5.
    # The search starts at 1 (b's "no answer") with threshold 0.0.
    data = _data(tmp_path, write_squad, [("a", "France"), ("b", None)])
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps({"a": "France", "b": "Normans"}))
    a_first, b_first = tmp_path / "ab.json", tmp_path / "ba.json"
    a_first.write_text('{"a": 0.5, "b": 0.5}')
    b_first.write_text('{"b": 0.5, "a": 0.5}')
    # a then b: 2 after a (best, threshold 0.5), then 1: best 2/2 at 0.5
    result = json.loads(_evaluate(data, preds, "-n", a_first).stdout)
    assert (result["best_exact"], result["best_exact_thresh"], result["best_f1"], result["best_f1_thresh"]) == (100.0, 0.5, 100.0, 0.5)
    # b then a: 0 after b, back to 1 after a, never above the start: best 1/2 at the initial 0.0
    result = json.loads(_evaluate(data, preds, "-n", b_first).stdout)
    assert (result["best_exact"], result["best_exact_thresh"], result["best_f1"], result["best_f1_thresh"]) == (50.0, 0.0, 50.0, 0.0)
    assert (result["exact"], result["f1"]) == (50.0, 50.0)  # 0.5 <= 1.0: scored as predicted


def test_an_integer_na_prob_is_reported_as_written(tmp_path, write_squad):
    data = _data(tmp_path, write_squad, [("a", "France"), ("b", None)])
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps({"a": "France", "b": ""}))
    odds = tmp_path / "odds.json"
    odds.write_text('{"a": -3, "b": 2}')
    # start 1; a (-3): 2 -> best, threshold -3; b (2): answered "" -> 2: best 100 at -3 (an int, as in the file)
    text = _evaluate(data, preds, "-n", odds).stdout
    assert '"best_exact_thresh": -3,' in text and json.loads(text)["best_exact"] == 100.0


def test_non_finite_thresholds_and_na_probs_are_refused(tmp_path, write_squad):
    data = _data(tmp_path, write_squad, [("a", "France"), ("b", None)])
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps({"a": "France", "b": ""}))
    out = tmp_path / "out.json"
    for value in ("nan", "inf", "-inf"):
        result = _evaluate(data, preds, "-t", value, "-o", out)
        assert result.exit_code == 2 and "--na-prob-thresh" in result.output and "not a finite number" in result.output
        assert "Traceback" not in result.output
    for literal in ("NaN", "Infinity", "-Infinity"):
        odds = tmp_path / "odds.json"
        odds.write_text('{"a": 0.1, "b": %s}' % literal)
        result = _evaluate(data, preds, "-n", odds, "-o", out)
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert f"{odds}: question b:" in result.output and "not a finite number" in result.output
    assert not out.exists()


def test_na_prob_thresh_is_refused_for_squad_1_1(tmp_path, write_squad):
    data = write_squad(tmp_path / "dev-v1.1.json", CONTEXT,
                       [{"id": "a", "question": "?", "answers": [{"text": "France", "answer_start": 53}]}], version="1.1")
    preds = tmp_path / "p.json"
    preds.write_text('{"a": "France"}')
    result = _evaluate(data, preds, "-t", "0.5")
    assert result.exit_code != 0 and "--na-prob-thresh applies to SQuAD 2.0 only" in result.output


def _threshold(*args):
    return CliRunner().invoke(main, ["squad", "threshold", *map(str, args)])


def test_threshold_command_refuses_malformed_candidates_and_non_finite_numbers(tmp_path):
    nbest, odds, out = tmp_path / "x.nbest_predictions.json", tmp_path / "x.null_odds.json", tmp_path / "o.json"
    odds.write_text('{"q1": -1.0, "q2": 2.0}')
    nbest.write_text(json.dumps({"q1": [{"text": "France", "probability": 0.9}],
                                 "q2": [{"txt": "Normandy", "probability": 0.6}, {"text": "Normans", "probability": 0.4}]}))
    result = _threshold(nbest, odds, "--threshold", "0", "--output", out)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert f"{nbest}: question q2: candidate 0 is not an object" in result.output and not out.exists()
    nbest.write_text(json.dumps({"q1": ["France"], "q2": []}))
    result = _threshold(nbest, odds, "--threshold", "0", "--output", out)
    assert f"{nbest}: question q1: candidate 0 is not an object" in result.output and not out.exists()
    nbest.write_text(json.dumps({"q1": [{"text": "France"}], "q2": [{"text": "Normans"}]}))
    result = _threshold(nbest, odds, "--threshold", "nan", "--output", out)
    assert result.exit_code == 2 and "--threshold" in result.output and "not a finite number" in result.output
    odds.write_text('{"q1": NaN, "q2": 2.0}')
    result = _threshold(nbest, odds, "--threshold", "0", "--output", out)
    assert f"{odds}: question q1: nan is not a finite number" in result.output and not out.exists()
    odds.write_text('{"q1": -1.0, "q2": 2.0}')  # well-formed: q2's odds 2.0 > 0 -> no answer
    result = _threshold(nbest, odds, "--threshold", "0", "--output", out)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == {"q1": "France", "q2": ""}


def test_a_non_finite_null_threshold_in_a_task_definition_is_refused():
    from mtdnn_core.api import PluginHost, check_task_defs, parse_task_defs

    registries = PluginHost(["squad"]).registries
    for literal in (".nan", ".inf", "-.inf"):
        defs = parse_task_defs(f"squadv2:\n  task_type: span_v2\n  data_format: squad_json\n"
                               f"  head_config: {{null_threshold: {literal}}}\n", "t.yml")
        problems = check_task_defs(defs, registries)
        assert any("squadv2.head_config.null_threshold" in p and "finite number" in p for p in problems), problems


def test_out_image_dir_adds_the_official_precision_recall_analysis(tmp_path, write_squad):
    # a: answerable, right; b: unanswerable, ""; c: answerable, wrong; d: unanswerable, answered.
    # Ranked by na-prob a (0.1), b (0.2), c (0.2), d (0.9); a curve point only where the next differs.
    # exact/F1: after a P=1, R=1/2 (AP 0.5); after b,c P=1/3, R=1/2; after d P=1/4, R=1/2 -> AP 50.
    # oracle (1 per answerable): after a 0.5; after b,c P=2/3, R=1 -> +2/3*1/2; after d +0 -> AP 83.33.
    data = _data(tmp_path, write_squad, [("a", "France"), ("b", None), ("c", "France"), ("d", None)])
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps({"a": "France", "b": "", "c": "Normans", "d": "Normandy"}))
    odds = tmp_path / "odds.json"
    odds.write_text('{"a": 0.1, "b": 0.2, "c": 0.2, "d": 0.9}')
    images = tmp_path / "images"
    result = _evaluate(data, preds, "-n", odds, "-p", images)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert list(out)[-3:] == ["pr_exact_ap", "pr_f1_ap", "pr_oracle_ap"]
    assert out["pr_exact_ap"] == 50.0 and out["pr_f1_ap"] == 50.0
    assert abs(out["pr_oracle_ap"] - 100 * (0.5 + 2 / 3 * 0.5)) < 1e-9
    names = ["na_prob_hist_hasAns.png", "na_prob_hist_noAns.png", "pr_exact.png", "pr_f1.png", "pr_oracle.png"]
    assert sorted(p.name for p in images.iterdir()) == names
    assert all((images / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names)
    result = _evaluate(data, preds, "-p", tmp_path / "other")  # no na-probs to rank by
    assert result.exit_code != 0 and "--out-image-dir needs --na-prob-file" in result.output
    assert not (tmp_path / "other").exists()
