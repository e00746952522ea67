"""``mtdnn convert mtdnn-pt``: the original MT-DNN toolkit's released checkpoints
(``mt_dnn_base_uncased.pt`` style: ``{"state": state dict, "config": dict}``) to a Hugging Face
encoder directory, plus the task heads (``scoring_list.N.*``) as ``heads.safetensors`` and a
``heads.json`` that describes them.

The encoder keys (``bert.*``) use pytorch-pretrained-bert's module names, which Hugging Face
kept, with LayerNorm's ``gamma/beta`` as ``weight/bias`` in older files. Hyper-parameters come
from ``config``; what it lacks is read off the tensor shapes where that is possible.
"""
from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from mtdnn_convert.errors import ConversionError
from mtdnn_convert.finite import refuse_non_finite
from mtdnn_convert.outdir import check_target, staged_directory
from mtdnn_convert.safe_torch import load_weights_only
from mtdnn_convert.vocab import decide_lower_case, read_vocab, write_tokenizer

ENCODER_PREFIX = "bert."
HEAD_PATTERN = re.compile(r"^scoring_list\.(\d+)\.(.+)$")
BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")  # not weights; rebuilt by the model
BERT_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
             "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings",
             "type_vocab_size", "initializer_range", "layer_norm_eps")
LISTED = 20


@dataclass
class MtdnnPtReport:
    target: Path
    encoder_tensors: int
    heads: list[dict]
    tokenizer: str
    notes: list[str] = field(default_factory=list)


def _hf_name(key: str) -> str:
    """``bert.encoder.layer.0.output.LayerNorm.gamma`` -> ``encoder.layer.0.output.LayerNorm.weight``."""
    name = key[len(ENCODER_PREFIX):]
    if ".LayerNorm." in name or name.startswith("LayerNorm."):
        name = re.sub(r"\.gamma$", ".weight", re.sub(r"\.beta$", ".bias", name))
    return name


def split_state(state: dict, ignore: list[str], where: Path) -> tuple[dict, dict, list[str]]:
    """Encoder tensors (Hugging Face names), head tensors (original names), ignored keys."""
    encoder, heads, ignored, unmapped, not_tensors = {}, {}, [], [], []
    for key, value in state.items():
        if not isinstance(key, str):
            unmapped.append(repr(key))
        elif any(fnmatch.fnmatchcase(key, p) for p in ignore):
            ignored.append(key)
        elif not isinstance(value, torch.Tensor):
            not_tensors.append(f"{key}: {type(value).__name__}")
        elif key.startswith(ENCODER_PREFIX):
            name = _hf_name(key)
            if name not in BUFFERS:
                encoder[name] = value
        elif HEAD_PATTERN.match(key):
            heads[key] = value
        else:
            unmapped.append(key)
    problems = []
    if unmapped:
        problems.append(f"{len(unmapped)} key(s) neither encoder ('bert.*') nor head ('scoring_list.N.*'); drop them "
                        f"knowingly with --ignore PATTERN: {', '.join(sorted(unmapped)[:LISTED])}")
    if not_tensors:
        problems.append(f"entries of 'state' that are not tensors: {', '.join(not_tensors[:LISTED])}")
    if not encoder:
        problems.append("no encoder weights ('bert.*' keys) in 'state'")
    if problems:
        raise ConversionError(f"{where}: cannot convert:\n" + "\n".join(f"  - {p}" for p in problems))
    return encoder, heads, ignored


def _layers(encoder: dict) -> int:
    found = [int(m.group(1)) for k in encoder if (m := re.match(r"encoder\.layer\.(\d+)\.", k))]
    return max(found) + 1 if found else 0


def bert_config(config: dict, encoder: dict, num_attention_heads: int | None, where: Path):
    """A ``BertConfig`` from the checkpoint's config, completed from the tensor shapes."""
    from transformers import BertConfig

    source = config.get("bert_config") if isinstance(config.get("bert_config"), dict) else config
    values = {k: source[k] for k in BERT_KEYS if k in source}
    inferred = {}
    shapes = {
        "vocab_size": ("embeddings.word_embeddings.weight", 0),
        "hidden_size": ("embeddings.word_embeddings.weight", 1),
        "max_position_embeddings": ("embeddings.position_embeddings.weight", 0),
        "type_vocab_size": ("embeddings.token_type_embeddings.weight", 0),
        "intermediate_size": ("encoder.layer.0.intermediate.dense.weight", 0),
    }
    for key, (tensor, dim) in shapes.items():
        if key not in values and tensor in encoder:
            inferred[key] = int(encoder[tensor].shape[dim])
    if "num_hidden_layers" not in values and _layers(encoder):
        inferred["num_hidden_layers"] = _layers(encoder)
    if num_attention_heads is not None:
        values["num_attention_heads"] = num_attention_heads
    values = {**inferred, **values}
    lacking = [k for k in BERT_KEYS[:5] if k not in values]
    if lacking:
        raise ConversionError(f"{where}: 'config' lacks {', '.join(lacking)} and the tensors cannot tell"
                              f"{' (pass --num-attention-heads N)' if 'num_attention_heads' in lacking else ''}")
    if values["hidden_size"] % values["num_attention_heads"]:
        raise ConversionError(f"{where}: hidden_size {values['hidden_size']} is not a multiple of "
                              f"num_attention_heads {values['num_attention_heads']}")
    hf_config = BertConfig(**values)
    hf_config.architectures = ["BertModel"]
    return hf_config, sorted(inferred)


def check_encoder(encoder: dict, hf_config: Any, where: Path) -> None:
    """Every ``BertModel`` parameter present with the right shape, and nothing else."""
    from transformers import BertModel

    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in BertModel(hf_config).named_parameters()}
    missing = sorted(set(expected) - set(encoder))
    unexpected = sorted(set(encoder) - set(expected))
    wrong = [f"{k}: file {list(encoder[k].shape)}, config implies {list(expected[k])}"
             for k in sorted(set(expected) & set(encoder)) if tuple(encoder[k].shape) != expected[k]]
    problems = []
    for title, items in (("missing encoder weights", missing), ("encoder weights BERT does not have", unexpected),
                         ("shapes that disagree with the config", wrong)):
        if items:
            problems.append(f"{len(items)} {title}: " + "; ".join(items[:LISTED]))
    if problems:
        raise ConversionError(f"{where}: the encoder is not a BERT of this config:\n" + "\n".join(f"  - {p}" for p in problems))


def describe_heads(heads: dict, hidden_size: int) -> list[dict]:
    """One record per ``scoring_list.N``: its parameters' shapes and, for a plain linear layer,
    what it is in Hugging Face terms (the classifier on BERT's pooled output)."""
    grouped: dict[int, dict[str, list[int]]] = {}
    for key, value in heads.items():
        index, param = HEAD_PATTERN.match(key).groups()
        grouped.setdefault(int(index), {})[param] = list(value.shape)
    out = []
    for index in sorted(grouped):
        params = dict(sorted(grouped[index].items()))
        linear = set(params) == {"weight", "bias"} and len(params["weight"]) == 2 and params["weight"][1] == hidden_size
        record = {"index": index, "prefix": f"scoring_list.{index}", "parameters": params,
                  "kind": "linear" if linear else "other (e.g. SAN)"}
        if linear:
            record["outputs"] = params["weight"][0]
            record["hf_equivalent"] = ("BertForSequenceClassification.classifier (applied to the BERT pooler "
                                       "output, as the original does)")
        out.append(record)
    return out


def check_vocab_rows(n_tokens: int, rows: int, vocab_file: Path) -> None:
    """One word-embedding row per vocabulary line, or the ids would name other words."""
    if n_tokens != rows:
        raise ConversionError(f"{vocab_file}: {n_tokens} tokens, but the checkpoint's word embeddings "
                              f"(bert.embeddings.word_embeddings.weight) have {rows} rows (one per token); pass the "
                              f"vocab.txt this model was trained with")


def _plain(value: Any) -> Any:
    """JSON-safe copy of config values (anything else becomes its repr)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def convert_mtdnn_pt(source: Path, target: Path, *, vocab_file: Path | None = None, tokenizer: str | None = None,
                     lower_case: bool | None = None, num_attention_heads: int | None = None,
                     ignore: list[str] = (), overwrite: bool = False) -> MtdnnPtReport:
    from safetensors.torch import save_file

    source, target = Path(source), Path(target)
    inputs = [("FILE", source), ("--vocab", vocab_file), ("--tokenizer", tokenizer)]
    check_target(target, overwrite, inputs)
    if vocab_file and tokenizer:
        raise ConversionError("pass --vocab or --tokenizer, not both")
    if vocab_file and not Path(vocab_file).is_file():
        raise ConversionError(f"{vocab_file}: no such vocabulary file")
    blob = load_weights_only(source)
    if isinstance(blob, dict) and isinstance(blob.get("state"), dict):
        state, config = blob["state"], blob.get("config") or {}
    elif isinstance(blob, dict) and blob and all(isinstance(v, torch.Tensor) for v in blob.values()):
        state, config = blob, {}
    else:
        keys = ", ".join(map(str, list(blob)[:10])) if isinstance(blob, dict) else type(blob).__name__
        raise ConversionError(f"{source}: expected a dict with 'state' (a state dict) and 'config', found: {keys}")
    if not isinstance(config, dict):
        raise ConversionError(f"{source}: 'config' is a {type(config).__name__}, expected a dict")
    encoder, heads, ignored = split_state(state, list(ignore), source)
    hf_config, inferred = bert_config(config, encoder, num_attention_heads, source)
    check_encoder(encoder, hf_config, source)
    refuse_non_finite([(k, v) for k, v in state.items() if k not in ignored and isinstance(v, torch.Tensor)], source)
    if vocab_file:
        check_vocab_rows(len(read_vocab(Path(vocab_file))), hf_config.vocab_size, Path(vocab_file))
    records = describe_heads(heads, hf_config.hidden_size)
    notes = [f"ignored {len(ignored)} key(s) matching --ignore"] if ignored else []
    others = sorted(str(k) for k in blob if k not in ("state", "config")) if blob.get("state") is state else []
    if others:
        notes.append(f"not converted (not weights of the model): top-level {', '.join(others)}")
    if inferred:
        notes.append(f"read off the tensor shapes (not in 'config'): {', '.join(inferred)}")
    with staged_directory(target, overwrite, inputs) as tmp:
        hf_config.save_pretrained(tmp)
        save_file({k: v.float().contiguous() for k, v in sorted(encoder.items())}, str(tmp / "model.safetensors"),
                  metadata={"format": "pt"})
        if heads:
            save_file({k: v.clone().contiguous() for k, v in sorted(heads.items())}, str(tmp / "heads.safetensors"),
                      metadata={"format": "pt"})
            options = {k: _plain(v) for k, v in config.items() if k not in BERT_KEYS and k != "bert_config"}
            (tmp / "heads.json").write_text(json.dumps({"source": source.name, "heads": records,
                                                        "training_options": options}, indent=2) + "\n")
        if vocab_file:
            tokens = read_vocab(Path(vocab_file))
            from_config = config.get("do_lower_case") if isinstance(config.get("do_lower_case"), bool) else None
            casing = decide_lower_case(lower_case, from_config, tokens)
            write_tokenizer(Path(vocab_file), tmp, casing.value, hf_config.max_position_embeddings)
            described = f"from {vocab_file} (lower-casing {'on' if casing.value else 'off'}: {casing.reason})"
        elif tokenizer:
            from transformers import AutoTokenizer

            try:
                AutoTokenizer.from_pretrained(tokenizer).save_pretrained(tmp)
            except (OSError, ValueError) as exc:
                raise ConversionError(f"could not load tokenizer '{tokenizer}': {str(exc).splitlines()[0]}") from None
            described = f"copied from {tokenizer}"
        else:
            described = "none (the .pt has no vocabulary; add --vocab vocab.txt or --tokenizer DIR before using it with mtdnn train)"
    return MtdnnPtReport(target, len(encoder), records, described, notes)
