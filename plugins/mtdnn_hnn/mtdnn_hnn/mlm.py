"""The masked-LM head the LM scorer needs, taken from the encoder's own source.

The core loads encoders with ``AutoModel`` (no prediction head). The HNN head loads
``AutoModelForMaskedLM`` from the same directory or hub name (``encoder.config._name_or_path``,
or ``head_config.mlm_source``), keeps its prediction head as a submodule (so checkpoints hold
it) and, when the source ties its decoder to the word embeddings, ties it to the shared
encoder's embeddings. A source without trained head weights (the packaged all-MiniLM-L6-v2,
a bare ``BertModel`` directory) is refused with the way to get one: ``mtdnn alum pretrain``.
"""
from __future__ import annotations

from pathlib import Path

from torch import nn

from mtdnn_core.api import MtdnnError

HOW_TO_GET_ONE = (
    "HNN's LM scorer needs an encoder with a trained masked-LM head. Train one with the ALUM plugin's "
    "masked-LM pre-training, e.g.\n"
    "  mtdnn alum pretrain --encoder {encoder} --corpus ../shared/data/mlm/mlm_train.json --output mlm-encoder/ "
    "--steps 300 --adv-alpha 0\n"
    "then train with --encoder mlm-encoder/ (or set head_config: {{mlm_source: mlm-encoder/}})."
)


class NoMaskedLmHead(MtdnnError):
    """The encoder's source has no trained masked-LM head."""


def _quiet():
    from transformers.utils import logging as hf_logging

    return hf_logging


def is_checkpoint_encoder(source: str) -> bool:
    """A checkpoint's ``encoder/`` directory (config and tokenizer only): its weights, the masked-LM
    head's included, come from the checkpoint's ``model.safetensors``."""
    path = Path(source)
    return path.name == "encoder" and (path.parent / "state.json").is_file() and (path.parent / "model.safetensors").is_file()


def load_masked_lm(source: str):
    """``AutoModelForMaskedLM`` from ``source``; :class:`NoMaskedLmHead` if its head is untrained."""
    from transformers import AutoConfig, AutoModelForMaskedLM

    logging = _quiet()
    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        if is_checkpoint_encoder(source):
            return AutoModelForMaskedLM.from_config(AutoConfig.from_pretrained(source))
        model, info = AutoModelForMaskedLM.from_pretrained(source, output_loading_info=True)
    except (OSError, ValueError) as exc:
        raise NoMaskedLmHead(f"could not load a masked-LM model from '{source}' ({str(exc).splitlines()[0]}).\n"
                             + HOW_TO_GET_ONE.format(encoder=source)) from None
    finally:
        logging.set_verbosity(level)
    prefix = f"{model.base_model_prefix}."
    untrained = sorted(k for k in info["missing_keys"] if not k.startswith(prefix))
    if untrained:
        raise NoMaskedLmHead(f"encoder '{source}' has no masked-LM head (no weights for {', '.join(untrained[:3])}).\n"
                             + HOW_TO_GET_ONE.format(encoder=source))
    return model


def prediction_head(model: nn.Module) -> nn.Module:
    """The one child module of a masked-LM model that is not its base model (BERT's ``cls``,
    RoBERTa's ``lm_head``, ...)."""
    children = [(n, m) for n, m in model.named_children()
                if n != model.base_model_prefix and any(True for _ in m.parameters())]
    if len(children) != 1:
        raise MtdnnError(f"{type(model).__name__}: its masked-LM head is not one module ({', '.join(n for n, _ in children)}); "
                         f"supported are models like BERT (cls) and RoBERTa (lm_head)")
    return children[0][1]


def masked_lm_head(encoder: nn.Module, source: str | None = None) -> nn.Module:
    """The prediction head for ``encoder``: hidden states ``[..., H]`` to vocabulary logits."""
    source = source or getattr(encoder.config, "_name_or_path", "") or ""
    if not source:
        raise NoMaskedLmHead(f"the encoder ({type(encoder).__name__}) was not loaded from a directory or hub name, "
                             f"so there is no masked-LM head to load.\n" + HOW_TO_GET_ONE.format(encoder="ENCODER"))
    model = load_masked_lm(source)
    head = prediction_head(model)
    decoder, embeddings = model.get_output_embeddings(), encoder.get_input_embeddings()
    if decoder is None or decoder.weight.shape != embeddings.weight.shape:
        raise MtdnnError(f"the masked-LM head of '{source}' does not fit the encoder's vocabulary "
                         f"({None if decoder is None else tuple(decoder.weight.shape)} vs {tuple(embeddings.weight.shape)})")
    if decoder.weight is model.get_input_embeddings().weight:  # tied in the source: tie to the shared encoder
        decoder.weight = embeddings.weight
    return head
