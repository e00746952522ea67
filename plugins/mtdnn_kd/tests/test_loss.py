"""The loss the kd regularizer puts in place of the task loss, alpha * kd + (1 - alpha) * hard,
against hand computations."""
import json
import math
from types import SimpleNamespace

import pytest
import torch

from mtdnn_core.api import PoolerHead, RankingHead, RegularizerContext, TaskDef, TokenHead, complete_task_def
from mtdnn_core.testing import make_host
from mtdnn_kd import plugin
from mtdnn_kd.errors import SoftLabelError
from mtdnn_kd.fingerprint import input_fingerprint
from mtdnn_kd.regularizer import KDConfig, KnowledgeDistillation
from mtdnn_kd.soft_labels import Manifest, SplitRecord, TaskRecord, write_entries, write_manifest

HOST = make_host(plugin)
REGISTRIES = HOST.registries


def log_softmax(values, temperature=1.0):
    scaled = [v / temperature for v in values]
    top = max(scaled)
    total = math.log(sum(math.exp(v - top) for v in scaled)) + top
    return [v - total for v in scaled]


def task_def(name, **body):
    return complete_task_def(TaskDef(name=name, **body), REGISTRIES.task_types)


RTE = task_def("rte", task_type="classification", data_format="PremiseAndOneHypothesis", labels=["no", "yes"])
STSB = task_def("stsb", task_type="regression", data_format="PremiseAndOneHypothesis")
QA = task_def("qa", task_type="ranking", data_format="PremiseAndMultiHypothesis")
NER = task_def("ner", task_type="sequence_labeling", data_format="Sequence", labels=["O", "B", "I"])


def write_soft(directory, task, lines, temperature=1.0):
    write_entries(directory / f"{task.name}.train.jsonl", lines)
    record = TaskRecord(task_type=task.task_type, labels=task.labels, n_class=task.n_class, max_seq_len=64, teachers=[0],
                        splits={"train": SplitRecord(file=f"{task.name}.train.jsonl", source="x", sha256="0", rows=len(lines))})
    write_manifest(directory, Manifest(temperature=temperature, tokenizer="t", teachers=[], tasks={task.name: record}))
    return directory


def batch_of(uids, ids, **extra):
    width = max(len(r) for r in ids)
    input_ids = torch.tensor([r + [0] * (width - len(r)) for r in ids])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in ids])
    return {"uids": uids, "input_ids": input_ids, "attention_mask": mask, **extra}


def regularizer(directory, **params):
    return KnowledgeDistillation(REGISTRIES, KDConfig(soft_labels=str(directory), **params))


def model_with(task, head):
    return SimpleNamespace(heads={task.name: head})


def test_classification_kl_with_temperature(tmp_path):
    ids = [[101, 7, 102], [101, 8, 9, 102]]
    soft = [[0.7, 0.3], [0.4, 0.6]]
    write_soft(tmp_path, RTE, [{"uid": str(i), "soft": s, "input": input_fingerprint([r])} for i, (s, r) in enumerate(zip(soft, ids))],
               temperature=2.0)
    student = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    labels = torch.tensor([0, 1])
    batch = batch_of(["0", "1"], ids, labels=labels)
    reg = regularizer(tmp_path, alpha=0.3, loss="kl")
    hard = -(log_softmax([1, 0])[0] + log_softmax([0, 2])[1]) / 2
    kl = sum(sum(p * (math.log(p) - q) for p, q in zip(s, log_softmax(z, 2.0)))
             for s, z in zip(soft, [[1, 0], [0, 2]])) / 2 * 4  # T^2 = 4
    term = reg(model_with(RTE, PoolerHead(4, RTE)), RTE, batch, student, torch.tensor(hard))
    assert float(term) == pytest.approx(0.3 * kl + 0.7 * hard, abs=1e-6)
    assert reg.log_values() == pytest.approx({"kd": kl, "hard": hard})


def test_classification_mse_matches_centred_logits(tmp_path):
    ids = [[101, 7, 102], [101, 8, 102]]
    teacher_logits = [[0.5, -0.5], [0.0, 1.0]]
    write_soft(tmp_path, RTE, [{"uid": str(i), "soft": [0.5, 0.5], "logits": z, "input": input_fingerprint([r])}
                               for i, (z, r) in enumerate(zip(teacher_logits, ids))])
    student = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    batch = batch_of(["0", "1"], ids, labels=torch.tensor([0, 1]))
    reg = regularizer(tmp_path, alpha=1.0)  # the task's kd_loss: mse, the classification default
    # centred: student [.5, -.5] vs teacher [.5, -.5] -> 0;  student [-1, 1] vs teacher [-.5, .5] -> .25 per class
    hard = -(log_softmax([1, 0])[0] + log_softmax([0, 2])[1]) / 2
    term = reg(model_with(RTE, PoolerHead(4, RTE)), RTE, batch, student, torch.tensor(hard))
    assert float(term) == pytest.approx((0.0 + 0.25) / 2, abs=1e-6)


def test_regression_and_per_sample_weights(tmp_path):
    ids = [[101, 5, 102], [101, 6, 102], [101, 7, 102]]
    soft = [1.5, 1.0, 0.0]
    write_soft(tmp_path, STSB, [{"uid": str(i), "soft": s, "input": input_fingerprint([r])} for i, (s, r) in enumerate(zip(soft, ids))])
    student = torch.tensor([2.0, 1.0, 4.0])
    gold = torch.tensor([3.0, 0.0, 4.0])
    weights = torch.tensor([1.0, 1.0, 2.0])
    batch = batch_of(["0", "1", "2"], ids, labels=gold, weights=weights)
    reg = regularizer(tmp_path, alpha=0.5, loss="kl")  # `loss` applies to classes; regression keeps mse
    hard = (1 * 1.0 + 1 * 1.0 + 2 * 0.0) / 4  # weighted mean of squared errors
    kd = (1 * 0.25 + 1 * 0.0 + 2 * 16.0) / 4
    term = reg(model_with(STSB, PoolerHead(4, STSB)), STSB, batch, student, torch.tensor(hard))
    assert float(term) == pytest.approx(0.5 * kd + 0.5 * hard, abs=1e-6)


def test_ranking_soft_cross_entropy_ignores_padded_candidates(tmp_path):
    cands = [[[101, 1, 102], [101, 2, 102]], [[101, 3, 102], [101, 4, 102], [101, 5, 102]]]
    soft = [[0.2, 0.8], [0.5, 0.25, 0.25]]
    write_soft(tmp_path, QA, [{"uid": str(i), "soft": s, "input": input_fingerprint(c)} for i, (s, c) in enumerate(zip(soft, cands))])
    flat = [cands[0][0], cands[0][1], [0], cands[1][0], cands[1][1], cands[1][2]]
    mask = torch.tensor([[True, True, False], [True, True, True]])
    batch = batch_of(["0", "1"], flat, candidate_mask=mask, labels=torch.tensor([1, 0]))
    batch["attention_mask"][2] = 0  # the padded candidate
    student = torch.tensor([[0.0, 1.0, float("-inf")], [2.0, 0.0, 0.0]])
    reg = regularizer(tmp_path, alpha=0.5, loss="ce")
    hard = -(log_softmax([0, 1])[1] + log_softmax([2, 0, 0])[0]) / 2
    ce = -(sum(p * q for p, q in zip(soft[0], log_softmax([0, 1]))) + sum(p * q for p, q in zip(soft[1], log_softmax([2, 0, 0])))) / 2
    term = reg(model_with(QA, RankingHead(4, QA)), QA, batch, student, torch.tensor(hard))
    assert float(term) == pytest.approx(0.5 * ce + 0.5 * hard, abs=1e-6)


def test_sequence_labeling_distills_first_subtokens_of_words(tmp_path):
    ids = [101, 11, 12, 13, 102]  # words: 0 -> [11, 12], 1 -> [13]
    soft = [[0.6, 0.3, 0.1], [0.1, 0.1, 0.8]]
    write_soft(tmp_path, NER, [{"uid": "s", "soft": soft, "windows": [[0, input_fingerprint([ids])]]}])
    student = torch.tensor([[[9.0, 9, 9], [1.0, 0, 0], [5.0, 5, 5], [0.0, 0, 2], [9.0, 9, 9]]])
    labels = torch.tensor([[-100, 0, -100, 2, -100]])
    batch = batch_of(["s"], [ids], word_ids=torch.tensor([[-1, 0, 0, 1, -1]]), labels=labels)
    reg = regularizer(tmp_path, alpha=0.25, loss="kl")
    hard = -(log_softmax([1, 0, 0])[0] + log_softmax([0, 0, 2])[2]) / 2
    kl = sum(sum(p * (math.log(p) - q) for p, q in zip(s, log_softmax(z))) for s, z in zip(soft, [[1, 0, 0], [0, 0, 2]])) / 2
    term = reg(model_with(NER, TokenHead(4, NER)), NER, batch, student, torch.tensor(hard))
    assert float(term) == pytest.approx(0.25 * kl + 0.75 * hard, abs=1e-6)


def test_missing_soft_labels_are_an_error_unless_allowed(tmp_path):
    ids = [[101, 7, 102], [101, 8, 102]]
    write_soft(tmp_path, RTE, [{"uid": "0", "soft": [1.0, 0.0], "input": input_fingerprint([ids[0]])}])
    student = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    batch = batch_of(["0", "1"], ids, labels=torch.tensor([1, 1]))
    with pytest.raises(SoftLabelError, match=r"task 'rte': 1 sample\(s\) .* no soft label .*uids 1\)"):
        regularizer(tmp_path)(model_with(RTE, PoolerHead(4, RTE)), RTE, batch, student, torch.tensor(0.0))
    reg = regularizer(tmp_path, alpha=0.5, loss="kl", allow_missing=True)
    hard_all = -(log_softmax([1, 0])[1] + log_softmax([0, 2])[1]) / 2
    with pytest.warns(RuntimeWarning, match="without soft labels"):
        term = reg(model_with(RTE, PoolerHead(4, RTE)), RTE, batch, student, torch.tensor(hard_all))
    # row 0 trains on .5 kd + .5 hard, row 1 on its hard loss alone; a batch mean over both rows
    kd0, hard0 = -log_softmax([1, 0])[0], -log_softmax([1, 0])[1]
    hard1 = -log_softmax([0, 2])[1]
    assert float(term) == pytest.approx(((0.5 * kd0 + 0.5 * hard0) + hard1) / 2, abs=1e-6)
    assert reg.log_values()["missing"] == 1


def test_inputs_from_another_tokenizer_or_text_are_refused(tmp_path):
    write_soft(tmp_path, RTE, [{"uid": "0", "soft": [1.0, 0.0], "input": input_fingerprint([[101, 7, 102]])}])
    batch = batch_of(["0"], [[101, 9, 102]], labels=torch.tensor([0]))
    with pytest.raises(SoftLabelError, match="uid 0: the student's token ids differ .* another tokenizer"):
        regularizer(tmp_path, loss="kl")(model_with(RTE, PoolerHead(4, RTE)), RTE, batch, torch.zeros(1, 2), torch.tensor(0.0))
    term = regularizer(tmp_path, loss="kl", check_inputs=False)(model_with(RTE, PoolerHead(4, RTE)), RTE, batch, torch.zeros(1, 2),
                                                     torch.tensor(0.0))
    assert term is not None


def test_other_labels_and_unusable_kd_losses_are_refused(tmp_path):
    write_soft(tmp_path, RTE, [{"uid": "0", "soft": [1.0, 0.0]}])
    other = task_def("rte", task_type="classification", data_format="PremiseAndOneHypothesis", labels=["yes", "no"])
    batch = batch_of(["0"], [[101, 102]], labels=torch.tensor([0]))
    with pytest.raises(SoftLabelError, match=r"labels \['yes', 'no'\] .* in this run but \['no', 'yes'\]"):
        regularizer(tmp_path)(model_with(other, PoolerHead(4, other)), other, batch, torch.zeros(1, 2), torch.tensor(0.0))
    with pytest.raises(SoftLabelError, match="kd_loss 'sym_kl' has no distillation meaning"):
        regularizer(tmp_path, loss="sym_kl", check_inputs=False)(model_with(RTE, PoolerHead(4, RTE)), RTE, batch,
                                                                 torch.zeros(1, 2), torch.tensor(0.0))
    with pytest.raises(SoftLabelError, match="carry none"):  # mse matches logits; this file has none
        regularizer(tmp_path, check_inputs=False)(model_with(RTE, PoolerHead(4, RTE)), RTE, batch, torch.zeros(1, 2),
                                                  torch.tensor(0.0))
    with pytest.raises(ValueError, match="holds no manifest.json"):
        KDConfig(soft_labels=str(tmp_path / "nowhere"))


def test_setup_checks_every_tasks_soft_labels_before_the_first_batch(tmp_path):
    write_soft(tmp_path, RTE, [{"uid": "0", "soft": [1.0, 0.0]}])
    other = task_def("rte", task_type="classification", data_format="PremiseAndOneHypothesis", labels=["yes", "no"])
    types = {"rte": REGISTRIES.task_types.get("classification").factory}
    with pytest.raises(SoftLabelError, match=r"labels \['yes', 'no'\] .* in this run but \['no', 'yes'\]"):
        regularizer(tmp_path).setup(RegularizerContext(tasks={"rte": other}, task_types=types))
    reg = regularizer(tmp_path)
    reg.setup(RegularizerContext(tasks={"rte": RTE, "stsb": STSB}, task_types=types))
    assert reg.plans["stsb"] is None and reg.plans["rte"].entries.keys() == {"0"}  # stsb has no soft labels


def test_malformed_soft_label_file_names_file_and_line(tmp_path):
    write_soft(tmp_path, RTE, [{"uid": "0", "soft": [1.0, 0.0]}])
    (tmp_path / "rte.train.jsonl").write_text('{"uid": "0", "soft": [1, 0]}\n{"uid": "1", "soft": [1, "x"]}\n')
    with pytest.raises(SoftLabelError, match=r"rte.train.jsonl:2: 'soft' must be a list of finite numbers"):
        regularizer(tmp_path).plan(RTE)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["temperature"] = -1
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    from mtdnn_core.api import ConfigError

    with pytest.raises(ConfigError, match="temperature: Input should be greater than 0"):
        regularizer(tmp_path)


def test_a_window_of_a_long_sentence_finds_its_words_by_its_token_ids(tmp_path):
    first, second = [101, 11, 12, 13, 102], [101, 13, 14, 15, 102]  # windows: words 0-2, words 2-4
    soft = [[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]]
    windows = [[0, input_fingerprint([first])], [2, input_fingerprint([second])]]
    write_soft(tmp_path, NER, [{"uid": "s", "soft": soft, "windows": windows}])
    student = torch.tensor([[[0.0, 0, 0], [0.0, 1, 0], [2.0, 0, 0], [0.0, 0, 3], [0.0, 0, 0]]])
    batch = batch_of(["s"], [second], word_ids=torch.tensor([[-1, 0, 1, 2, -1]]),
                     labels=torch.tensor([[-100, 1, 0, 2, -100]]))
    reg = regularizer(tmp_path, alpha=1.0, loss="kl")
    # the row is the second window: its words 0, 1, 2 are the sentence's words 2, 3, 4
    kl = sum(sum(p * (math.log(p) - q) for p, q in zip(s, log_softmax(z)))
             for s, z in zip(soft[2:], [[0, 1, 0], [2, 0, 0], [0, 0, 3]])) / 3
    hard = -(log_softmax([0, 1, 0])[1] + log_softmax([2, 0, 0])[0] + log_softmax([0, 0, 3])[2]) / 3
    term = reg(model_with(NER, TokenHead(4, NER)), NER, batch, student, torch.tensor(hard))
    assert float(term) == pytest.approx(kl, abs=1e-6)
    other = batch_of(["s"], [[101, 13, 99, 15, 102]], word_ids=torch.tensor([[-1, 0, 1, 2, -1]]),
                     labels=torch.tensor([[-100, 1, 0, 2, -100]]))
    with pytest.raises(SoftLabelError, match="uid s: the student's token ids differ"):
        reg(model_with(NER, TokenHead(4, NER)), NER, other, student, torch.tensor(hard))


def test_kd_loss_is_a_declared_key_of_task_definitions_checked_against_the_losses():
    from mtdnn_core.api import check_task_defs, parse_task_defs
    from mtdnn_core.testing import make_host
    from mtdnn_kd.objectives import KD_LOSS

    registries = make_host(entry_points=("kd",)).registries
    assert registries.task_def_fields.get("kd_loss").factory is KD_LOSS
    text = "t:\n  data_format: PremiseOnly\n  task_type: Classification\n  labels: [a, b]\n  kd_loss: {}\n"
    assert check_task_defs(parse_task_defs(text.format("KlCriterion")), registries) == []
    (problem,) = check_task_defs(parse_task_defs(text.format("kll")), registries)
    assert problem.startswith("t.kd_loss: no loss 'kll'; did you mean 'kl'?")
    defs = parse_task_defs(text.format("kl") + "s:\n  data_format: PremiseOnly\n  task_type: Regression\n")
    assert KD_LOSS.value(defs["t"]) == "kl" and KD_LOSS.value(defs["s"]) == "mse"


def test_a_misspelt_kd_loss_without_the_plugin_loaded_names_the_plugin_that_declares_it():
    from mtdnn_core.api import check_task_defs, parse_task_defs
    from mtdnn_core.testing import make_host

    defs = parse_task_defs("t:\n  data_format: PremiseOnly\n  task_type: Classification\n  labels: [a, b]\n  kd_los: kl\n")
    assert check_task_defs(defs, make_host().registries) == [
        "t.kd_los: unknown key; did you mean 'kd_loss'? (provided by plugin kd: add --plugin kd)"]
    # the original toolkit's key itself loads without the plugin (and is unused)
    defs = parse_task_defs("t:\n  data_format: PremiseOnly\n  task_type: Classification\n  labels: [a, b]\n  kd_loss: kl\n")
    assert check_task_defs(defs, make_host().registries) == []


def test_kd_alpha_of_a_task_replaces_alpha_and_each_task_logs_its_losses(tmp_path):
    ids = [[101, 7, 102], [101, 8, 102]]
    rte_dir, stsb_dir = tmp_path / "rte", tmp_path / "stsb"
    for d in (rte_dir, stsb_dir):
        d.mkdir()
    write_soft(rte_dir, RTE, [{"uid": str(i), "soft": s, "input": input_fingerprint([r])}
                              for i, (s, r) in enumerate(zip([[0.7, 0.3], [0.4, 0.6]], ids))])
    # one directory with both tasks: the manifest of the rte directory plus the stsb records
    write_soft(stsb_dir, STSB, [{"uid": str(i), "soft": v, "input": input_fingerprint([r])} for i, (v, r) in enumerate(zip([1.5, 1.0], ids))])
    manifest = json.loads((rte_dir / "manifest.json").read_text())
    manifest["tasks"]["stsb"] = json.loads((stsb_dir / "manifest.json").read_text())["tasks"]["stsb"]
    (rte_dir / "manifest.json").write_text(json.dumps(manifest))
    (stsb_dir / "stsb.train.jsonl").rename(rte_dir / "stsb.train.jsonl")
    rte = task_def("rte", task_type="classification", data_format="PremiseAndOneHypothesis", labels=["no", "yes"], kd_alpha=0.1)
    reg = regularizer(rte_dir, alpha=0.5, loss="kl")
    student = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    batch = batch_of(["0", "1"], ids, labels=torch.tensor([0, 1]))
    hard = -(log_softmax([1, 0])[0] + log_softmax([0, 2])[1]) / 2
    kl = sum(sum(p * (math.log(p) - q) for p, q in zip(s, log_softmax(z)))
             for s, z in zip([[0.7, 0.3], [0.4, 0.6]], [[1, 0], [0, 2]])) / 2
    term = reg(model_with(rte, PoolerHead(4, rte)), rte, batch, student, torch.tensor(hard))
    assert float(term) == pytest.approx(0.1 * kl + 0.9 * hard, abs=1e-6)  # kd_alpha 0.1, not alpha 0.5
    values = torch.tensor([2.0, 1.0])
    stsb_batch = batch_of(["0", "1"], ids, labels=torch.tensor([3.0, 0.0]))
    hard_s, kd_s = (1.0 + 1.0) / 2, (0.25 + 0.0) / 2
    term = reg(model_with(STSB, PoolerHead(4, STSB)), STSB, stsb_batch, values, torch.tensor(hard_s))
    assert float(term) == pytest.approx(0.5 * kd_s + 0.5 * hard_s, abs=1e-6)  # no kd_alpha: the regularizer's alpha
    assert reg.log_values() == pytest.approx({"kd": (kl + kd_s) / 2, "hard": (hard + hard_s) / 2, "kd_rte": kl,
                                              "hard_rte": hard, "kd_stsb": kd_s, "hard_stsb": hard_s})


def test_kd_alpha_is_a_declared_key_between_0_and_1():
    from mtdnn_core.api import check_task_defs, parse_task_defs
    from mtdnn_kd.objectives import KD_ALPHA

    registries = make_host(entry_points=("kd",)).registries
    assert registries.task_def_fields.get("kd_alpha").factory is KD_ALPHA
    text = "t:\n  data_format: PremiseOnly\n  task_type: Classification\n  labels: [a, b]\n  kd_alpha: {}\n"
    assert check_task_defs(parse_task_defs(text.format("0.25")), registries) == []
    (problem,) = check_task_defs(parse_task_defs(text.format("1.5")), registries)
    assert problem.startswith("t.kd_alpha: ") and "less than or equal to 1" in problem
    (problem,) = check_task_defs(parse_task_defs(text.format("much")), registries)
    assert problem.startswith("t.kd_alpha: ") and "valid number" in problem
