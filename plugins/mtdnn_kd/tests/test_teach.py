"""Teaching: soft labels equal the mean of what `mtdnn predict` gives for each teacher; the
report's scores and agreement follow from them; bad teachers and mismatched runs are refused."""
import hashlib
import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from mtdnn_core.api import ConfigError, cli as main
from mtdnn_kd.teach import TeachSettings, teach

EVAL_ROWS = 48
TRAIN_ROWS = 64


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def predicted(tmp_path, run, task, data):
    out = tmp_path / f"{run.name}-{task}.json"
    result = CliRunner().invoke(main, ["predict", "--plugin", "glue", "--checkpoint", str(run), "--task", task,
                                       "--data", str(data), "--output", str(out)])
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    return dict(zip(body["uids"], body["scores"]))


def test_soft_labels_are_the_mean_of_the_teachers_predictions(tmp_path, canonical, teachers, soft_dir):
    rte_dev = {e["uid"]: e for e in lines(soft_dir / "rte.dev.jsonl")}
    assert len(rte_dev) == EVAL_ROWS and len(lines(soft_dir / "rte.train.jsonl")) == TRAIN_ROWS
    probs = [predicted(tmp_path, run, "rte", canonical / "rte_dev.tsv") for run in teachers]
    for uid, entry in rte_dev.items():
        assert entry["soft"] == pytest.approx(np.mean([p[uid] for p in probs], axis=0), abs=2e-6)
    values = [predicted(tmp_path, run, "stsb", canonical / "stsb_dev.tsv") for run in teachers]
    for entry in lines(soft_dir / "stsb.dev.jsonl"):
        assert entry["soft"] == pytest.approx(np.mean([v[entry["uid"]] for v in values]), abs=2e-6)

    report = json.loads((soft_dir / "report.json").read_text())["tasks"]["rte"]
    uids = list(rte_dev)
    gold = np.array([rte_dev[u]["label"] for u in uids])
    votes = [np.array([int(np.argmax(p[u])) for u in uids]) for p in probs]
    for teacher, vote in zip(report["teachers"], votes):
        assert teacher["scores"]["dev"]["accuracy"] == pytest.approx(100 * np.mean(vote == gold))
    ensemble = np.array([int(np.argmax(rte_dev[u]["soft"])) for u in uids])
    assert report["ensemble"]["scores"]["dev"]["accuracy"] == pytest.approx(100 * np.mean(ensemble == gold))
    assert report["agreement"]["dev"]["unanimous"] == pytest.approx(100 * np.mean(votes[0] == votes[1]))
    assert "## rte (classification, 2 teacher(s))" in (soft_dir / "report.md").read_text()


def test_manifest_records_teachers_tokenizer_and_data_hashes(canonical, teachers, soft_dir):
    manifest = json.loads((soft_dir / "manifest.json").read_text())
    assert [t["seed"] for t in manifest["teachers"]] == [1, 2]
    rte = manifest["tasks"]["rte"]
    assert rte["labels"] == ["not_entailment", "entailment"] and rte["teachers"] == [0, 1]
    source = rte["splits"]["train"]["source"]
    assert rte["splits"]["train"]["sha256"] == hashlib.sha256(open(source, "rb").read()).hexdigest()
    assert open(source, "rb").read() == (canonical / "rte_train.tsv").read_bytes()
    assert len(manifest["tokenizer"]) == 16


def teach_into(out, teachers, canonical, tasks=("rte", "stsb")):
    return teach([str(t) for t in teachers], list(tasks), str(canonical), {}, out,
                 TeachSettings(max_train_samples=8, max_eval_samples=8, num_threads=1), ["glue"], log=lambda _: None)


def test_teachers_with_other_labels_or_tasks_are_refused(tmp_path, canonical, teachers):
    relabelled = tmp_path / "relabelled"
    shutil.copytree(teachers[1], relabelled)
    checkpoint = next(relabelled.glob("checkpoint-*"))
    state = json.loads((checkpoint / "state.json").read_text())
    state["task_defs"]["rte"]["labels"] = ["entailment", "not_entailment"]
    (checkpoint / "state.json").write_text(json.dumps(state))
    with pytest.raises(ConfigError, match=r"task 'rte': teacher .*relabelled was trained as classification with labels "
                                          r"\['entailment', 'not_entailment'\]"):
        teach_into(tmp_path / "a", [teachers[0], relabelled], canonical)
    with pytest.raises(ConfigError, match=r"the run was trained on rte, stsb, not on mrpc"):
        teach_into(tmp_path / "b", teachers, canonical, tasks=("rte", "mrpc"))
    with pytest.raises(ConfigError, match=r"task 'mrpc': no teacher"):
        teach([f"rte={teachers[0]}"], ["rte", "mrpc"], str(canonical), {}, tmp_path / "c", TeachSettings(), ["glue"])


def test_teachers_with_another_tokenizer_are_refused(tmp_path, canonical, teachers):
    other = tmp_path / "other"
    shutil.copytree(teachers[1], other)
    tokenizer_file = next(other.glob("checkpoint-*")) / "encoder" / "tokenizer.json"
    body = json.loads(tokenizer_file.read_text())
    vocab = body["model"]["vocab"]
    vocab["teh"] = vocab.pop("the")  # a tokenizer that splits "the" differently
    tokenizer_file.write_text(json.dumps(body))
    with pytest.raises(ConfigError, match="teachers use different tokenizers"):
        teach_into(tmp_path / "a", [teachers[0], other], canonical)


def kd_train(tmp_path, soft_dir, data, *extra):
    return CliRunner().invoke(main, [
        "kd", "train", "--soft-labels", str(soft_dir), "--plugin", "glue", "--data-dir", str(data), "--tasks", "rte,stsb",
        "--encoder", "tiny-random-bert", "--epochs", "1", "--max-train-samples", str(TRAIN_ROWS), "--max-eval-samples", "16",
        "--max-seq-len", "64", "--batch-size", "16", "--lr", "1e-3", "--num-threads", "1", "--device", "cpu", "--log-every", "1",
        "--output-dir", str(tmp_path / "student"), "--overwrite", "--no-progress", *extra])


def test_kd_train_distills_and_logs_both_losses(tmp_path, canonical, soft_dir):
    result = kd_train(tmp_path, soft_dir, canonical)
    assert result.exit_code == 0, result.output
    assert f"rte_train                {TRAIN_ROWS}/{TRAIN_ROWS} samples with soft labels" in result.output
    log = [json.loads(line) for line in (tmp_path / "student" / "log.jsonl").read_text().splitlines()]
    assert any("reg_kd_kd" in r and "reg_kd_hard" in r for r in log)
    config = json.loads((tmp_path / "student" / "config.json").read_text())
    assert config["regularizers"] == [{"name": "kd", "params": {"soft_labels": str(soft_dir), "alpha": 0.5,
                                                                "allow_missing": False, "check_inputs": True}}]


def test_kd_train_refuses_other_data_tokenizer_and_missing_samples(tmp_path, canonical, soft_dir):
    changed = tmp_path / "changed"
    shutil.copytree(canonical, changed)
    text = (changed / "rte_train.tsv").read_text().splitlines()
    cells = text[0].split("\t")
    cells[1] = "entailment" if cells[1] == "not_entailment" else "not_entailment"
    (changed / "rte_train.tsv").write_text("\n".join(["\t".join(cells), *text[1:]]) + "\n")
    result = kd_train(tmp_path, soft_dir, changed)
    assert result.exit_code == 2 and "another version of the data; teach again" in result.output

    result = kd_train(tmp_path, soft_dir, canonical, "--max-train-samples", str(TRAIN_ROWS + 8))
    assert result.exit_code == 2 and "8 of 72 training samples have no soft label" in result.output
    result = kd_train(tmp_path, soft_dir, canonical, "--max-train-samples", str(TRAIN_ROWS + 8), "--allow-missing")
    assert result.exit_code == 0, result.output
    assert "64/72 samples with soft labels" in result.output

    result = kd_train(tmp_path, soft_dir, canonical, "--kd-loss", "sym_kl")
    assert result.exit_code == 2 and "kd_loss 'sym_kl' has no distillation meaning" in result.output

    result = kd_train(tmp_path, soft_dir, canonical, "--max-seq-len", "32")
    assert result.exit_code == 2 and "other token ids than the teachers saw" in result.output

    other = tmp_path / "other-tokenizer"
    shutil.copytree(soft_dir, other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["tokenizer"] = "0123456789abcdef"
    (other / "manifest.json").write_text(json.dumps(manifest))
    result = kd_train(tmp_path, other, canonical)
    assert result.exit_code == 2 and "made with tokenizer 0123456789abcdef" in result.output


def test_plain_mtdnn_train_with_the_regularizer_checks_every_batch(tmp_path, canonical, soft_dir):
    broken = tmp_path / "broken"
    shutil.copytree(soft_dir, broken)
    entries = lines(broken / "rte.train.jsonl")
    entries[3]["input"] = "0000000000000000"
    (broken / "rte.train.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    args = ["train", "--plugin", "glue", "--plugin", "kd", "--data-dir", str(canonical), "--tasks", "rte",
            "--encoder", "tiny-random-bert", "--epochs", "1", "--max-train-samples", str(TRAIN_ROWS), "--max-eval-samples", "8",
            "--max-seq-len", "64", "--batch-size", "16", "--num-threads", "1", "--device", "cpu", "--no-progress",
            "--overwrite", "--output-dir", str(tmp_path / "run")]
    ok = CliRunner().invoke(main, [*args, "--set", f"regularizers=[{{name: kd, params: {{soft_labels: {soft_dir}}}}}]"])
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(main, [*args, "--set", f"regularizers=[{{name: kd, params: {{soft_labels: {broken}}}}}]"])
    assert bad.exit_code == 2 and f"uid {entries[3]['uid']}: the student's token ids differ" in bad.output
