"""A student with everything at once under torchrun: RTE with its SAN head, SMART and a Bregman
teacher on RTE and on a sequence-labelling task (CoNLL NER), distillation from soft labels. Two Gloo ranks, with the model
replicated or sharded (--fsdp), must end where one process on the same global batches ends, and
log the same (global) numbers."""
import json
import shutil

import pytest
import torch

from mtdnn_core.testing import failure_report, final_weights, real_data, run_cli, run_sharded_cli

ROWS = 64  # the rows the session's teachers labelled (conftest's TRAIN_ROWS)


def student_args(canonical, conll, soft_dir, out):
    regularizers = (f"regularizers=[{{name: smart, params: {{noise_draw: row, noise_std: 0.01}}}}, "
                    f"{{name: bregman, params: {{beta: 0.5}}}}, {{name: kd, params: {{soft_labels: '{soft_dir}'}}}}]")
    no_dropout = ("task_overrides={rte: {dropout_p: 0.0, head_config: {turn_dropout: 0.0, memory_dropout: 0.0}}, "
                  "ner: {dropout_p: 0.0}}")
    return ["train", "--plugin", "glue", "--plugin", "ner", "--plugin", "alum", "--plugin", "kd",
            "--data-dir", canonical, "--data-dir", f"ner={conll}", "--tasks", "rte,ner", "--encoder", "tiny-random-bert",
            "--max-seq-len", "64", "--batch-size", "16", "--max-train-samples", str(ROWS), "--max-eval-samples", "16",
            "--eval-splits", "dev", "--max-steps", "4", "--lr", "1e-3", "--num-threads", "1", "--device", "cpu",
            "--no-progress", "--log-every", "1", "--save-every", "2", "--output-dir", out,
            "--set", "encoder_config={dropout: 0.0}", "--set", no_dropout, "--set", regularizers]


@pytest.fixture(scope="module")
def conll(tmp_path_factory):
    source = real_data("conll2003")
    folder = tmp_path_factory.mktemp("conll")
    for name, count in (("train.txt", ROWS), ("valid.txt", 16)):
        sentences = (source / name).read_text().split("\n\n")
        (folder / name).write_text("\n\n".join(sentences[:count]) + "\n")
    return folder


def train_records(run):
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if '"event": "train"' in line]


@pytest.mark.slow
def test_two_ranks_with_san_smart_kd_and_ner_equal_one_process_sharded_or_not(tmp_path, canonical, soft_dir, conll):
    runs = {}
    for name, processes, extra in (("one", 1, []), ("two", 2, []), ("sharded", 2, ["--fsdp"])):
        out = tmp_path / name
        args = student_args(canonical, conll, soft_dir, out) + extra
        result = run_sharded_cli(args, out) if extra else run_cli(args, processes)
        assert result.returncode == 0, failure_report(result)
        runs[name] = out
    meta = json.loads(next(runs["two"].glob("checkpoint-*/state.json")).read_text())
    assert meta["task_defs"]["rte"]["enable_san"] and meta["task_defs"]["ner"]["task_type"].lower().startswith("sequence")
    one = final_weights(runs["one"])
    for other in ("two", "sharded"):  # --fsdp: the same update from sharded weights (SMART's passes, KD's soft labels)
        weights = final_weights(runs[other])
        assert one.keys() == weights.keys()
        for name in one:
            assert torch.allclose(one[name], weights[name], atol=1e-5, rtol=1e-4), (other, name)
    first = train_records(runs["one"])
    assert {r["task"] for r in first} == {"rte", "ner"} and any("reg_kd" in r for r in first)
    for other in ("two", "sharded"):
        records = train_records(runs[other])
        assert [r["task"] for r in records] == [r["task"] for r in first]
        for a, b in zip(first, records):  # what is logged is the run's, not rank 0's share
            assert b["loss"] == pytest.approx(a["loss"], rel=1e-5)
            assert b["reg_smart"] == pytest.approx(a["reg_smart"], rel=1e-4, abs=1e-7) and a["reg_smart"] > 0
            if "reg_kd" in a:
                assert b["reg_kd"] == pytest.approx(a["reg_kd"], rel=1e-5)
            if "reg_bregman" in a:  # the teacher: a copy of the model, sharded under --fsdp
                assert b["reg_bregman"] == pytest.approx(a["reg_bregman"], rel=1e-4, abs=1e-9)
    assert any(r.get("reg_bregman", 0) > 0 for r in first)
    # a sharded run resumed from its checkpoint at update 2 (the teacher's shards gathered into it
    # and sharded again) ends bitwise where the uninterrupted one does
    resumed = tmp_path / "resumed"
    shutil.copytree(runs["sharded"], resumed, ignore=shutil.ignore_patterns("checkpoint-0000004", "cache"))
    args = student_args(canonical, conll, soft_dir, resumed) + ["--fsdp", "--resume", str(resumed / "checkpoint-0000002")]
    result = run_sharded_cli(args, resumed)
    assert result.returncode == 0, failure_report(result)
    full, again = final_weights(runs["sharded"]), final_weights(resumed)
    for name in full:
        assert torch.equal(full[name], again[name]), name
