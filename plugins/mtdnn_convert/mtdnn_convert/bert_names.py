"""Google BERT variable names and shapes -> Hugging Face ``BertForPreTraining`` parameter names.

TensorFlow dense kernels are ``[in, out]`` and are transposed to PyTorch's ``[out, in]``;
LayerNorm ``gamma/beta`` become ``weight/bias``; embedding tables keep their layout. The NSP
classifier ``cls/seq_relationship/output_weights`` is already ``[2, H]`` (BERT multiplies by
its transpose), so it is not transposed. The MLM decoder weight is not stored: it is tied to
the word embeddings.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from mtdnn_convert.bert_config import GoogleBertConfig

MLM_PREFIX = "cls/predictions/"
NSP_PREFIX = "cls/seq_relationship/"
# optimizer state and bookkeeping, never model weights (the last is TF2's object graph)
OPTIMIZER_SLOTS = ("*/adam_m", "*/adam_v", "*/Adam", "*/Adam_1", "*/Momentum", "global_step", "beta1_power",
                   "beta2_power", "_CHECKPOINTABLE_OBJECT_GRAPH")


@dataclass(frozen=True)
class Target:
    """Where one TensorFlow variable goes."""

    hf_name: str
    tf_shape: tuple[int, ...]
    transpose: bool = False


def _dense(tf: str, hf: str, n_in: int, n_out: int) -> dict[str, Target]:
    return {f"{tf}/kernel": Target(f"{hf}.weight", (n_in, n_out), True), f"{tf}/bias": Target(f"{hf}.bias", (n_out,))}


def _norm(tf: str, hf: str, size: int) -> dict[str, Target]:
    return {f"{tf}/gamma": Target(f"{hf}.weight", (size,)), f"{tf}/beta": Target(f"{hf}.bias", (size,))}


def encoder_variables(c: GoogleBertConfig) -> dict[str, Target]:
    """The variables every BERT checkpoint has, with the shapes the config implies."""
    h, i = c.hidden_size, c.intermediate_size
    out = {
        "bert/embeddings/word_embeddings": Target("bert.embeddings.word_embeddings.weight", (c.vocab_size, h)),
        "bert/embeddings/position_embeddings": Target("bert.embeddings.position_embeddings.weight", (c.max_position_embeddings, h)),
        "bert/embeddings/token_type_embeddings": Target("bert.embeddings.token_type_embeddings.weight", (c.type_vocab_size, h)),
        **_norm("bert/embeddings/LayerNorm", "bert.embeddings.LayerNorm", h),
        **_dense("bert/pooler/dense", "bert.pooler.dense", h, h),
    }
    for n in range(c.num_hidden_layers):
        tf, hf = f"bert/encoder/layer_{n}", f"bert.encoder.layer.{n}"
        for part in ("query", "key", "value"):
            out.update(_dense(f"{tf}/attention/self/{part}", f"{hf}.attention.self.{part}", h, h))
        out.update(_dense(f"{tf}/attention/output/dense", f"{hf}.attention.output.dense", h, h))
        out.update(_norm(f"{tf}/attention/output/LayerNorm", f"{hf}.attention.output.LayerNorm", h))
        out.update(_dense(f"{tf}/intermediate/dense", f"{hf}.intermediate.dense", h, i))
        out.update(_dense(f"{tf}/output/dense", f"{hf}.output.dense", i, h))
        out.update(_norm(f"{tf}/output/LayerNorm", f"{hf}.output.LayerNorm", h))
    return out


def mlm_variables(c: GoogleBertConfig) -> dict[str, Target]:
    h = c.hidden_size
    return {
        **_dense("cls/predictions/transform/dense", "cls.predictions.transform.dense", h, h),
        **_norm("cls/predictions/transform/LayerNorm", "cls.predictions.transform.LayerNorm", h),
        "cls/predictions/output_bias": Target("cls.predictions.bias", (c.vocab_size,)),
    }


def nsp_variables(c: GoogleBertConfig) -> dict[str, Target]:
    return {
        "cls/seq_relationship/output_weights": Target("cls.seq_relationship.weight", (2, c.hidden_size)),
        "cls/seq_relationship/output_bias": Target("cls.seq_relationship.bias", (2,)),
    }


@dataclass
class NamePlan:
    """Every variable of a checkpoint sorted into mapped, ignored, unmapped, missing."""

    mapped: dict[str, Target]
    ignored_slots: list[str]
    ignored_by_user: list[str]
    unmapped: list[str]
    missing: list[str]
    has_mlm: bool
    has_nsp: bool

    @property
    def architecture(self) -> str:
        if self.has_mlm and self.has_nsp:
            return "BertForPreTraining"
        if self.has_mlm:
            return "BertForMaskedLM"
        if self.has_nsp:
            return "BertForNextSentencePrediction"
        return "BertModel"


def _matches(name: str, patterns: tuple[str, ...] | list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def plan_names(names: list[str], config: GoogleBertConfig, ignore: list[str] = ()) -> NamePlan:
    """Sort checkpoint variable ``names``; the heads are expected whole if any of their variables is present."""
    slots = [n for n in names if _matches(n, OPTIMIZER_SLOTS)]
    by_user = [n for n in names if n not in slots and _matches(n, list(ignore))]
    present = [n for n in names if n not in slots and n not in by_user]
    has_mlm = any(n.startswith(MLM_PREFIX) for n in present)
    has_nsp = any(n.startswith(NSP_PREFIX) for n in present)
    expected = encoder_variables(config)
    if has_mlm:
        expected.update(mlm_variables(config))
    if has_nsp:
        expected.update(nsp_variables(config))
    return NamePlan(
        mapped={n: expected[n] for n in present if n in expected},
        ignored_slots=slots,
        ignored_by_user=by_user,
        unmapped=sorted(n for n in present if n not in expected),
        missing=sorted(n for n in expected if n not in present),
        has_mlm=has_mlm,
        has_nsp=has_nsp,
    )
