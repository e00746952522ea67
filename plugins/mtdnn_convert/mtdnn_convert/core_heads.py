"""The ``export_head`` answer for mtdnn's own heads when they have no transformers class: pooler
and ranking heads with a non-tanh activation, SAN, and pooler or token heads on an encoder
without a matching task class. Their inference code is :mod:`mtdnn_convert.remote_code.core_heads`."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mtdnn_convert.remote_code import source

_LAYER_TENSORS = ("weight", "bias", "weight_ih", "weight_hh", "bias_ih", "bias_hh")


def plain_weights(head: nn.Module, layers: list[str]) -> dict[str, torch.Tensor]:
    """The named layers' tensors as plain values (a weight-normed layer gives its effective
    weight), under ``layer.weight`` style names."""
    weights = {}
    for name in layers:
        layer = head.get_submodule(name)
        for attr in _LAYER_TENSORS:
            value = getattr(layer, attr, None)
            if isinstance(value, torch.Tensor):
                weights[f"{name}.{attr}"] = value.detach().clone()
    return weights


def _activation(head: nn.Module) -> str:
    for name, cls in (("tanh", nn.Tanh), ("gelu", nn.GELU), ("relu", nn.ReLU)):
        if type(head.activation) is cls and (name != "gelu" or head.activation.approximate == "none"):
            return name
    raise TypeError(f"pooler activation {head.activation!r}")


def export_core_head(head: nn.Module, task: Any) -> Any:
    from mtdnn_core.api import HeadExport, PoolerHead, RankingHead, SANHead, TokenHead

    if type(head) in (PoolerHead, RankingHead):
        notes = ("A ranking task scores each (premise, candidate) pair; the candidate with the highest score is the "
                 "answer, and the softmax over a question's candidates gives mtdnn's scores.",) if type(head) is RankingHead else ()
        return HeadExport("MtdnnPoolerHead", source("core_heads"), plain_weights(head, ["dense", "out"]),
                          "text-classification", {"activation": _activation(head), "n_out": head.out.out_features},
                          notes)
    if type(head) is TokenHead:
        return HeadExport("MtdnnTokenHead", source("core_heads"), plain_weights(head, ["out"]), "token-classification")
    if type(head) is SANHead:
        layers = ["query_summary", "rnn", "classifier"] + (["attn"] if head.attn is not None else [])
        return HeadExport("MtdnnSANHead", source("core_heads"), plain_weights(head, layers), "text-classification",
                          {"turns": head.turns, "attention": head.attention, "merge": head.merge,
                           "n_out": head.classifier.out_features},
                          ("`logits` are the log of the answer probabilities averaged over the SAN's turns: the "
                           "pipeline's softmax gives those probabilities, mtdnn's scores.",))
    return None
