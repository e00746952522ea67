"""A student on one-hot soft labels trains exactly like one on hard labels; a distillation run
resumes with its own configuration."""
import json

import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main
from mtdnn_kd.kinds import kind_for
from mtdnn_kd.soft_labels import Manifest, SplitRecord, TaskRecord, write_entries, write_manifest


def write_soft_labels(trainer, out, entry):
    """A soft-label directory for the run's training sets; ``entry(task, row)`` gives each row's
    soft-label fields."""
    records = {}
    for dataset in trainer.data.train:
        task, kind = dataset.task, kind_for(dataset.task.task_type)
        lines = []
        for row in dataset.rows(range(len(dataset))):
            key, value = kind.input_record(row)
            lines.append({"uid": row["uid"], **entry(task, row), key: value})
        write_entries(out / f"{task.name}.train.jsonl", lines)
        records[task.name] = TaskRecord(task_type=task.task_type, labels=task.labels, n_class=task.n_class, max_seq_len=64,
                                        teachers=[], splits={"train": SplitRecord(file=f"{task.name}.train.jsonl",
                                                                                 source=str(dataset.source), sha256="-", rows=len(lines))})
    write_manifest(out, Manifest(temperature=1.0, tokenizer="-", teachers=[], tasks=records))
    return out


def one_hot_soft_labels(trainer, out):
    """Soft labels equal to the hard labels: one-hot classes, the gold value for regression."""
    def entry(task, row):
        if task.task_type == "classification":
            return {"soft": [1.0 if c == row["label"] else 0.0 for c in range(task.n_class)]}
        return {"soft": float(row["label"])}
    return write_soft_labels(trainer, out, entry)


def test_one_hot_soft_labels_train_exactly_like_hard_labels(tmp_path, canonical, train_run):
    hard, _ = train_run(tmp_path / "hard", canonical, seed=3)
    soft = one_hot_soft_labels(hard, tmp_path / "soft")
    # KL(one-hot || q) = cross-entropy and (gold - x)^2 = the regression loss, so
    # 0.5 * kd + 0.5 * hard is the hard loss itself: the same updates, step by step
    distilled, _ = train_run(tmp_path / "kd", canonical, seed=3, plugins=["kd"], regularizers=[
        {"name": "kd", "params": {"soft_labels": str(soft), "alpha": 0.5, "loss": "kl"}}])
    a, b = hard.model.state_dict(), distilled.model.state_dict()
    assert a.keys() == b.keys()
    difference = max(float((a[n] - b[n]).abs().max()) for n in a)
    assert difference < 1e-6
    moved = max(float((a[n] - p).abs().max()) for n, p in train_run(tmp_path / "other", canonical, seed=3, epochs=0)[0].model.state_dict().items())
    assert moved > 1e-3  # training did change the weights, so the equality is not vacuous
    log = [json.loads(line) for line in (tmp_path / "kd" / "log.jsonl").read_text().splitlines()]
    kd_terms = [r for r in log if "reg_kd_kd" in r]
    assert kd_terms and all(r["reg_kd_kd"] == pytest.approx(r["reg_kd_hard"], rel=1e-4) for r in kd_terms)
    # the logged term is the loss that replaced the task loss: 0.5 * kd + 0.5 * hard
    assert all(r["reg_kd"] == pytest.approx(0.5 * r["reg_kd_kd"] + 0.5 * r["reg_kd_hard"], rel=1e-4) for r in kd_terms)



def test_kd_train_resumes_with_the_runs_own_configuration(tmp_path, canonical, soft_dir):
    soft = str(soft_dir)
    run = tmp_path / "kd"
    first = CliRunner().invoke(main, [
        "kd", "train", "--soft-labels", soft, "--plugin", "glue", "--data-dir", str(canonical), "--tasks", "rte",
        "--encoder", "tiny-random-bert", "--max-seq-len", "64", "--batch-size", "16", "--max-train-samples", "64",
        "--max-eval-samples", "16", "--epochs", "1", "--num-threads", "1", "--device", "cpu", "--no-progress",
        "--output-dir", str(run)])
    assert first.exit_code == 0, first.output
    steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines() if '"step"' in line]

    again = CliRunner().invoke(main, ["kd", "train", "--soft-labels", soft, "--resume", str(run), "--no-progress"])
    assert again.exit_code == 0, again.output
    saved = json.loads((run / "config.json").read_text())
    assert saved["tasks"] == ["rte"] and saved["plugins"] == ["glue", "kd"]
    assert [r["name"] for r in saved["regularizers"]] == ["kd"]  # the run's kd regularizer, not a second one
    assert max(json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines() if '"step"' in line) == max(steps)

    refused = CliRunner().invoke(main, ["kd", "train", "--soft-labels", soft, "--alpha", "0.9", "--resume", str(run)])
    assert refused.exit_code == 2 and "regularizers:" in refused.output and "Traceback" not in refused.output, refused.output


def uniform_soft_labels(trainer, out):
    """Soft labels far from the gold ones: 50/50 classes (logits 0, 0) and the value 0 for regression."""
    def entry(task, row):
        return {"soft": [0.5, 0.5], "logits": [0.0, 0.0]} if task.task_type == "classification" else {"soft": 0.0}
    return write_soft_labels(trainer, out, entry)


def test_kd_alpha_in_task_overrides_chooses_which_tasks_are_distilled(tmp_path, canonical, train_run):
    hard, _ = train_run(tmp_path / "hard", canonical, seed=3)
    soft = uniform_soft_labels(hard, tmp_path / "soft")
    kd = [{"name": "kd", "params": {"soft_labels": str(soft), "alpha": 0.5}}]
    # kd_alpha 0 for every task: each task's loss is its hard loss, the same updates as without kd
    none, _ = train_run(tmp_path / "none", canonical, seed=3, plugins=["kd"], regularizers=kd,
                        task_overrides={"rte": {"kd_alpha": 0.0}, "stsb": {"kd_alpha": 0.0}})
    a, b = hard.model.state_dict(), none.model.state_dict()
    assert max(float((a[n] - b[n]).abs().max()) for n in a) < 1e-6
    # rte distilled alone: its head moves differently from the hard run's, stsb's loss stays the hard one
    rte_only, _ = train_run(tmp_path / "rte", canonical, seed=3, plugins=["kd"], regularizers=kd,
                            task_overrides={"stsb": {"kd_alpha": 0.0}})
    c = rte_only.model.state_dict()
    assert max(float((a[n] - c[n]).abs().max()) for n in a if ".rte." in f".{n}.") > 1e-3
    log = [json.loads(line) for line in (tmp_path / "rte" / "log.jsonl").read_text().splitlines()]
    # the per-task distillation loss of stsb is logged although its weight is 0 (squared distance to 0)
    assert any("reg_kd_kd_stsb" in r and "reg_kd_kd_rte" in r for r in log)
