"""The regularizer contract: how each task type compares two outputs of a batch (against hand
computations), and the refusals a regularizer's declared needs lead to."""
import math

import pytest
import torch

from mtdnn_core.api import MeanSquaredError, Regularizer, RunMode, SymmetricKL, TaskDef, TaskType
from mtdnn_core.regularizers import regularizer_problems
from mtdnn_core.task_types.classification import Classification
from mtdnn_core.task_types.masked_lm import MaskedLM
from mtdnn_core.task_types.ranking import Ranking
from mtdnn_core.task_types.regression import Regression
from mtdnn_core.task_types.sequence_labeling import SequenceLabeling


def sym_kl(p, q):
    """KL(p || q) + KL(q || p) of two probability lists (0 entries skipped, as in the definition)."""
    return sum(a * math.log(a / b) for a, b in zip(p, q) if a > 0) + sum(b * math.log(b / a) for a, b in zip(p, q) if b > 0)


def softmax(values):
    exps = [math.exp(v) for v in values]
    return [e / sum(exps) for e in exps]


def test_classification_and_masked_lm_compare_one_distribution_per_row():
    a = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]])  # p = [0.75, 0.25], [0.5, 0.5]
    b = torch.tensor([[0.0, 0.0], [0.0, math.log(4.0)]])  # p = [0.5, 0.5], [0.2, 0.8]
    expected = (sym_kl([0.75, 0.25], [0.5, 0.5]) + sym_kl([0.5, 0.5], [0.2, 0.8])) / 2
    for task_type in (Classification(), MaskedLM()):  # masked LM rows: the masked positions
        assert task_type.compares_outputs
        assert task_type.compare_outputs(a, b, {}, SymmetricKL()).item() == pytest.approx(expected, rel=1e-6)


def test_regression_compares_values():
    a, b = torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [0.0]])
    assert Regression().compare_outputs(a, b, {}, MeanSquaredError()).item() == pytest.approx((1 + 4) / 2)


def test_ranking_leaves_out_padded_candidates():
    inf = float("-inf")
    a = torch.tensor([[0.0, math.log(3.0), inf]])  # two real candidates: p = [0.25, 0.75]
    b = torch.tensor([[0.0, 0.0, inf]])  # p = [0.5, 0.5]
    value = Ranking().compare_outputs(a, b, {}, SymmetricKL())
    assert value.item() == pytest.approx(sym_kl([0.25, 0.75], [0.5, 0.5]), rel=1e-6)


def test_sequence_labeling_compares_real_tokens_only():
    a = torch.tensor([[[math.log(3.0), 0.0], [0.0, 0.0], [50.0, -50.0]]])  # the third token is padding
    b = torch.tensor([[[0.0, 0.0], [0.0, math.log(4.0)], [-50.0, 50.0]]])
    batch = {"attention_mask": torch.tensor([[1, 1, 0]])}
    rows = SequenceLabeling().comparison_rows(a, batch)
    assert torch.equal(rows, a[0, :2])
    expected = (sym_kl([0.75, 0.25], [0.5, 0.5]) + sym_kl([0.5, 0.5], [0.2, 0.8])) / 2
    assert SequenceLabeling().compare_outputs(a, b, batch, SymmetricKL()).item() == pytest.approx(expected, rel=1e-6)


class Opaque(TaskType):
    name = "opaque"


def test_a_task_type_declares_whether_it_compares_outputs():
    assert not Opaque.compares_outputs
    with pytest.raises(NotImplementedError, match="opaque"):
        Opaque().comparison_rows(torch.zeros(1, 2), {})


class Perturbing(Regularizer):
    compares_outputs = True
    extra_forward_passes = 2
    hooks_encoder = True


class Teacher(Regularizer):
    extra_forward_passes = 1
    copies_model = True
    supports_compile = True


class ClassificationOnly(Regularizer):
    task_types = ("classification",)
    supports_distributed = supports_compile = True


class Replacing(Regularizer):
    replaces_task_loss = True
    supports_distributed = supports_compile = True


def tasks(**types):
    defs = {name: TaskDef(name=name, task_type=kind, data_format="PremiseOnly") for name, kind in types.items()}
    objects = {"classification": Classification(), "opaque": Opaque(), "regression": Regression()}
    return defs, {name: objects[kind] for name, kind in types.items()}


def test_compile_is_refused_naming_the_regularizer_and_its_needs():
    defs, kinds = tasks(rte="classification")
    problems = regularizer_problems([("smartish", Perturbing())], defs, kinds, RunMode(compile=True))
    assert problems == ["regularizers: smartish: does not run with --compile (2 extra forward pass(es) per batch "
                        "outside the trained model; hooks into the encoder's modules); train it without --compile"]
    assert regularizer_problems([("teacher", Teacher())], defs, kinds, RunMode(compile=True)) == []


def test_torchrun_is_refused_naming_the_regularizer_and_its_needs():
    defs, kinds = tasks(rte="classification")
    problems = regularizer_problems([("teacher", Teacher())], defs, kinds, RunMode(distributed=True))
    assert problems == ["regularizers: teacher: does not run under torchrun (1 extra forward pass(es) per batch "
                        "outside the trained model; a copy of the model); train it in one process"]
    assert regularizer_problems([("only", ClassificationOnly())], defs, kinds, RunMode(distributed=True)) == []


def test_a_task_type_that_cannot_compare_outputs_is_refused():
    defs, kinds = tasks(rte="classification", odd="opaque")
    problems = regularizer_problems([("smartish", Perturbing())], defs, kinds)
    assert len(problems) == 1 and problems[0].startswith("regularizers: smartish: task 'odd': task type 'opaque' cannot compare")


def test_a_task_type_outside_the_declared_ones_is_refused():
    defs, kinds = tasks(rte="classification", stsb="regression")
    problems = regularizer_problems([("only", ClassificationOnly())], defs, kinds)
    assert len(problems) == 1 and "task 'stsb' is of task type 'regression'; it applies to classification only" in problems[0]


def test_only_one_regularizer_may_replace_the_task_loss():
    defs, kinds = tasks(rte="classification")
    assert regularizer_problems([("a", Replacing())], defs, kinds) == []
    assert regularizer_problems([("a", Replacing()), ("b", Replacing())], defs, kinds) == [
        "regularizers: a, b each replace the task loss; use one of them"]
