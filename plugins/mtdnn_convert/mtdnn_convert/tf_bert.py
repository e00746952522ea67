"""``mtdnn convert tf-bert``: a Google TensorFlow BERT checkpoint to a Hugging Face directory.

Everything is checked before anything is written: the files, the config, every variable name
(mapped, ignored optimizer slot, or refused) and every shape against the config. The output
holds ``config.json``, ``model.safetensors`` and tokenizer files; it loads with ``AutoModel``
and, when the checkpoint has the pre-training heads, ``BertForPreTraining`` /
``AutoModelForMaskedLM``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mtdnn_convert.bert_config import GoogleBertConfig, load_bert_config
from mtdnn_convert.bert_names import NamePlan, plan_names
from mtdnn_convert.errors import ConversionError
from mtdnn_convert.finite import refuse_non_finite
from mtdnn_convert.outdir import check_target, staged_directory
from mtdnn_convert.tf_bundle import BundleReader
from mtdnn_convert.vocab import LowerCasing, decide_lower_case, read_vocab, write_tokenizer

LISTED = 20  # names shown per problem list
WORD_EMBEDDINGS = "bert/embeddings/word_embeddings"


@dataclass
class TfBertReport:
    target: Path
    architecture: str
    converted: int
    ignored_slots: int
    ignored_by_user: int
    lower_case: LowerCasing
    checksums_verified: bool
    notes: list[str] = field(default_factory=list)


def find_checkpoint(source: Path) -> Path:
    """The checkpoint prefix: ``source`` itself (``dir/bert_model.ckpt``, or its ``.index``), or
    the only ``*.index`` in the directory ``source``."""
    source = Path(source)
    if source.name.endswith(".index") and source.is_file():
        return source.with_suffix("")
    if Path(f"{source}.index").is_file():
        return source
    if source.is_dir():
        found = sorted(source.glob("*.index"))
        if len(found) == 1:
            return found[0].with_suffix("")
        if found:
            raise ConversionError(f"{source}: several checkpoints ({', '.join(p.name for p in found)}); "
                                  f"pass the one to convert, e.g. {found[-1].with_suffix('')}")
        raise ConversionError(f"{source}: no TensorFlow checkpoint (*.index file) in this directory")
    raise ConversionError(f"{source}: no such checkpoint (expected a directory holding bert_model.ckpt.index, "
                          f"or a checkpoint prefix)")


def _listed(title: str, items: list[str]) -> str:
    shown = [f"  - {item}" for item in items[:LISTED]]
    if len(items) > LISTED:
        shown.append(f"  ... and {len(items) - LISTED} more")
    return "\n".join([title, *shown])


def check_plan(plan: NamePlan, reader: BundleReader, where: Path) -> None:
    """Refuse unmapped variables, missing ones and shapes that disagree with the config, all at once."""
    sections = []
    if plan.unmapped:
        sections.append(_listed(f"{len(plan.unmapped)} variable(s) with no BERT equivalent (drop them knowingly "
                                f"with --ignore PATTERN, e.g. --ignore 'output_*'):", plan.unmapped))
    if plan.missing:
        sections.append(_listed(f"{len(plan.missing)} variable(s) the config implies but the checkpoint lacks:", plan.missing))
    mismatched = [f"{name}: checkpoint {list(reader.info(name).shape)}, bert_config.json implies {list(target.tf_shape)}"
                  for name, target in sorted(plan.mapped.items()) if tuple(reader.info(name).shape) != target.tf_shape]
    if mismatched:
        sections.append(_listed(f"{len(mismatched)} shape(s) disagree with the config (is it this checkpoint's "
                                f"bert_config.json?):", mismatched))
    not_float = [f"{name}: {reader.info(name).dtype}" for name in sorted(plan.mapped)
                 if reader.info(name).dtype not in ("float32", "float16", "bfloat16", "float64")]
    if not_float:
        sections.append(_listed("weights that are not floating point:", not_float))
    if sections:
        raise ConversionError(f"{where}: cannot convert this checkpoint:\n" + "\n".join(sections))


def check_vocab_size(n_tokens: int, reader: BundleReader, vocab_file: Path) -> None:
    """One word-embedding row per vocabulary line: more lines give ids past the table, fewer
    mean another model's vocabulary (every id would name another word)."""
    rows = reader.info(WORD_EMBEDDINGS).shape[0]
    if n_tokens != rows:
        raise ConversionError(f"{vocab_file}: {n_tokens} tokens, but the checkpoint's {WORD_EMBEDDINGS} has {rows} rows "
                              f"(one per token); pass the vocab.txt released with this checkpoint (--vocab)")


def convert_tf_bert(source: Path, target: Path, *, config_file: Path | None = None, vocab_file: Path | None = None,
                    lower_case: bool | None = None, ignore: list[str] = (), hidden_act: str | None = None,
                    overwrite: bool = False, progress: Callable | None = None) -> TfBertReport:
    from safetensors.torch import save_file

    target = Path(target)
    check_target(target, overwrite, [("CKPT", source)])
    prefix = find_checkpoint(Path(source))
    folder = prefix.parent
    config_file = Path(config_file) if config_file else folder / "bert_config.json"
    vocab_file = Path(vocab_file) if vocab_file else folder / "vocab.txt"
    inputs = [("CKPT", p) for p in folder.glob(f"{prefix.name}.*")] + [("--config", config_file), ("--vocab", vocab_file)]
    check_target(target, overwrite, inputs)
    missing = [f"{p}: missing ({hint})" for p, hint in ((config_file, "pass --config"), (vocab_file, "pass --vocab"))
               if not p.is_file()]
    if missing:
        raise ConversionError("files the conversion needs are missing:\n" + "\n".join(f"  - {m}" for m in missing))
    config: GoogleBertConfig = load_bert_config(config_file)
    tokens = read_vocab(vocab_file)
    casing = decide_lower_case(lower_case, config.do_lower_case, tokens)
    reader = BundleReader(prefix)
    plan = plan_names(reader.names(), config, list(ignore))
    check_plan(plan, reader, reader.index_file)
    check_vocab_size(len(tokens), reader, vocab_file)

    tensors = {}
    items = sorted(plan.mapped.items())
    for name, spec in progress(items) if progress else items:
        value = reader.read(name).to(torch.float32)
        refuse_non_finite([(name, value)], reader.index_file)
        tensors[spec.hf_name] = (value.t() if spec.transpose else value).contiguous()
    if plan.architecture == "BertModel":  # a bare encoder is stored without the "bert." prefix
        tensors = {k.removeprefix("bert."): v for k, v in tensors.items()}
    notes: list[str] = []
    with staged_directory(target, overwrite, inputs) as tmp:
        config.to_hf(plan.architecture, hidden_act).save_pretrained(tmp)
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        write_tokenizer(vocab_file, tmp, casing.value, config.max_position_embeddings)
    return TfBertReport(target, plan.architecture, len(tensors), len(plan.ignored_slots), len(plan.ignored_by_user),
                        casing, reader.verify_checksums, notes)
