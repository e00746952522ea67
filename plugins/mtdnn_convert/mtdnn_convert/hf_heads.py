"""Which mtdnn heads are exactly a Hugging Face task model, and the weight copy that makes them one.

* ``PoolerHead`` (first token -> Linear(H, H) -> tanh -> Linear(H, n)) is BERT's pooler +
  classifier (``BertForSequenceClassification``: ``pooler.dense`` <- ``dense``, ``classifier``
  <- ``out``) or RoBERTa's ``RobertaClassificationHead`` (``dense``, ``out_proj``). A
  ``RankingHead`` is one with one output, scoring each premise-candidate pair.
* ``TokenHead`` (Linear(H, n) on every token) is ``*ForTokenClassification.classifier``.

Anything else (SAN, CRF, span, a pooler with another activation, a plugin's head) has no
equivalent and is exported as custom code. Every mapping is then checked numerically against
the mtdnn model (see :func:`max_difference`), so a layout this module misjudges is never
exported silently wrong.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

SEQUENCE, TOKEN = "text-classification", "token-classification"


@dataclass
class HfModel:
    model: Any  # a transformers PreTrainedModel
    pipeline_tag: str
    layout: str


class NoEquivalent(Exception):
    """The head has no Hugging Face task-model equivalent; the message says why."""


def _labels(task: Any, n_out: int) -> tuple[dict[int, str], str | None]:
    if n_out == 1:
        return {0: task.name or "score"}, "regression"
    names = task.labels if task.labels and len(task.labels) == n_out else [str(i) for i in range(n_out)]
    return dict(enumerate(names)), "single_label_classification"


def labels_for(task: Any, spec: Any) -> tuple[dict[int, str], str | None]:
    """Labels and problem type of a custom-code export (``spec``: the head's ``HeadExport``)."""
    if spec.pipeline_tag == SEQUENCE:
        return _labels(task, spec.settings.get("n_out") or task.n_class)
    if spec.pipeline_tag == TOKEN:
        return _labels(task, task.n_class)[0], None
    if spec.pipeline_tag == "question-answering":
        return {0: "start", 1: "end"}, None
    return _labels(task, 1)[0], None  # a head with its own pipeline: its outputs are named there


def _task_config(encoder: nn.Module, task: Any, n_out: int, dropout: float) -> Any:
    config = copy.deepcopy(encoder.config)
    id2label, problem = _labels(task, n_out)
    config.num_labels = n_out
    config.id2label = id2label
    config.label2id = {v: k for k, v in id2label.items()}
    config.problem_type = problem
    if hasattr(config, "classifier_dropout"):
        config.classifier_dropout = dropout
    return config


def _load_encoder(base: nn.Module, encoder: nn.Module) -> None:
    """The trained encoder into the task model's base; only a pooler may differ (task models
    without one drop it; BERT's is then set from the head)."""
    missing, unexpected = base.load_state_dict(encoder.state_dict(), strict=False)
    bad = sorted(k for k in [*missing, *unexpected] if not k.startswith("pooler."))
    if bad:
        raise NoEquivalent(f"the task model's encoder differs from the trained one ({', '.join(bad[:5])})")


def _copy(target: nn.Linear, source: nn.Linear) -> None:
    if target.weight.shape != source.weight.shape:
        raise NoEquivalent(f"layer shapes differ ({list(target.weight.shape)} vs {list(source.weight.shape)})")
    with torch.no_grad():
        target.weight.copy_(source.weight)
        target.bias.copy_(source.bias)


def _sequence_model(encoder: nn.Module, head: Any, task: Any) -> HfModel:
    from transformers import AutoModelForSequenceClassification

    if not isinstance(head.activation, nn.Tanh):
        raise NoEquivalent(f"the pooler head uses {type(head.activation).__name__}; Hugging Face classifiers use tanh")
    config = _task_config(encoder, task, head.out.out_features, head.dropout.p)
    try:
        model = AutoModelForSequenceClassification.from_config(config)
    except ValueError as exc:
        raise NoEquivalent(f"no sequence-classification model for '{config.model_type}' ({exc})") from None
    base = model.base_model
    classifier = getattr(model, "classifier", None)
    pooler = getattr(base, "pooler", None)
    if isinstance(classifier, nn.Linear) and isinstance(getattr(pooler, "dense", None), nn.Linear) \
            and isinstance(getattr(pooler, "activation", None), nn.Tanh):
        _load_encoder(base, encoder)
        _copy(pooler.dense, head.dense)
        _copy(classifier, head.out)
        return HfModel(model, SEQUENCE, "pooler.dense + classifier")
    if isinstance(getattr(classifier, "dense", None), nn.Linear) and isinstance(getattr(classifier, "out_proj", None), nn.Linear):
        _load_encoder(base, encoder)
        _copy(classifier.dense, head.dense)
        _copy(classifier.out_proj, head.out)
        return HfModel(model, SEQUENCE, "classifier.dense + classifier.out_proj")
    raise NoEquivalent(f"{type(model).__name__}'s classifier is not dense -> tanh -> linear")


def _token_model(encoder: nn.Module, head: Any, task: Any) -> HfModel:
    from transformers import AutoModelForTokenClassification

    config = _task_config(encoder, task, head.out.out_features, head.dropout.p)
    config.problem_type = None  # token classification has no problem types
    try:
        model = AutoModelForTokenClassification.from_config(config)
    except ValueError as exc:
        raise NoEquivalent(f"no token-classification model for '{config.model_type}' ({exc})") from None
    if not isinstance(getattr(model, "classifier", None), nn.Linear):
        raise NoEquivalent(f"{type(model).__name__}'s classifier is not a single linear layer")
    _load_encoder(model.base_model, encoder)
    _copy(model.classifier, head.out)
    return HfModel(model, TOKEN, "classifier")


def hf_model_for(encoder: nn.Module, head: nn.Module, task: Any) -> HfModel:
    """The Hugging Face model equal to ``encoder`` + ``head``, or :class:`NoEquivalent`."""
    from mtdnn_core.api import PoolerHead, RankingHead, TokenHead

    if type(head) in (PoolerHead, RankingHead):
        model = _sequence_model(encoder, head, task)
    elif type(head) is TokenHead:
        model = _token_model(encoder, head, task)
    else:
        raise NoEquivalent(f"head '{task.head}' ({type(head).__name__}) has no Hugging Face equivalent")
    model.model.eval()
    return model


@torch.no_grad()
def max_difference(hf: HfModel, mtdnn_model: nn.Module, task: str, tokenizer: Any) -> float:
    """Largest absolute logit difference between the export and the mtdnn model on a sample input."""
    texts = ("The export is checked on this sentence.", "And on a second one, as a pair.")
    batch = dict(tokenizer(*texts if hf.pipeline_tag == SEQUENCE else texts[:1], return_tensors="pt"))
    batch["candidate_mask"] = torch.ones(1, 1, dtype=torch.bool)  # a ranking head scores one candidate
    theirs = hf.model(**batch).logits
    ours = mtdnn_model(task, batch)
    return float((theirs.reshape(ours.shape) - ours).abs().max())
