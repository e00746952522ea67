"""``mtdnn export``: one task of an mtdnn run as a Hugging Face model directory.

Heads with an exact equivalent become ``AutoModelForSequenceClassification`` /
``AutoModelForTokenClassification`` models (labels, problem type, tokenizer, model card). Every
other head (SAN, CRF, span, a pooler with another activation, a plugin's head) becomes a
transformers custom-code model from the ``export_head`` hook (see :mod:`mtdnn_convert.custom_code`).
Either way the written model is checked numerically against the mtdnn model before the
directory appears; sequence-labelling exports carry the pipeline that windows long sentences.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mtdnn_convert.custom_code import add_pipeline, load_custom_model, write_custom_model
from mtdnn_convert.errors import ConversionError
from mtdnn_convert.hf_heads import TOKEN, NoEquivalent, hf_model_for, labels_for, max_difference
from mtdnn_convert.model_card import model_card
from mtdnn_convert.outdir import check_target, staged_directory

TOLERANCE = 1e-4  # float32 logits of the same weights, computed by two code paths
SAMPLE = ("The export is checked on this sentence.", "And on a second one, as a pair.")


@dataclass
class ExportReport:
    target: Path
    checkpoint: Path
    pipeline_tag: str | None
    layout: str
    difference: float | None
    fallback_reason: str | None
    custom_code: bool = False


def _mtdnn_batch(encoding: Any, **extra: Any) -> dict:
    """A tokenizer's output as mtdnn's features hold it (``segment_ids``: -1 special tokens)."""
    batch = dict(encoding)
    batch["segment_ids"] = torch.tensor([[-1 if s is None else s for s in encoding.sequence_ids(i)]
                                         for i in range(len(encoding["input_ids"]))])
    return {**batch, **extra}


@torch.no_grad()
def custom_difference(exported: Any, model: Any, task: str, tokenizer: Any, pipeline_tag: str) -> float:
    """Largest logit difference (text classification, spans) or number of words tagged
    differently (token classification) between the export and mtdnn on a sample input."""
    head = model.heads[task]
    if pipeline_tag == TOKEN:
        words = " ".join(SAMPLE).split()
        encoding = tokenizer([words], is_split_into_words=True, return_tensors="pt")
        word_ids = torch.tensor([[-1 if w is None else w for w in encoding.word_ids(0)]])
        batch = _mtdnn_batch(encoding, word_ids=word_ids)
        ours = head.decode(model(task, batch), batch)
        theirs = exported(**dict(encoding), word_ids=word_ids).logits.argmax(-1)
        previous = torch.cat([torch.full_like(word_ids[:, :1], -1), word_ids[:, :-1]], dim=1)
        firsts = (word_ids >= 0) & (word_ids != previous)
        return float((ours != theirs)[firsts].sum())
    encoding = tokenizer(*SAMPLE, return_tensors="pt")
    batch = _mtdnn_batch(encoding, candidate_mask=torch.ones(1, 1, dtype=torch.bool))
    ours = model(task, batch).float()
    output = exported(**dict(encoding))
    if pipeline_tag == "question-answering":
        theirs = torch.stack([output.start_logits, output.end_logits], dim=-1)
        attended = encoding["attention_mask"].bool()
        return float((theirs - ours)[attended].abs().max())
    return float((output.logits.reshape(ours.shape) - ours).abs().max())


def export_task(run: str | Path, task: str, target: str | Path, plugins: tuple[str, ...] = (),
                overwrite: bool = False) -> ExportReport:
    from mtdnn_core.api import PluginHost, UnknownNameError, load_for_inference, read_meta, resolve_checkpoint

    target = Path(target)
    inputs = [("RUN", str(run)[: -len(":best")] if str(run).endswith(":best") else run)]
    check_target(target, overwrite, inputs)
    checkpoint = resolve_checkpoint(run)
    meta = read_meta(checkpoint)
    plugin_names = list(dict.fromkeys([*meta.get("plugins", []), *plugins, "convert"]))
    host = PluginHost(plugin_names)
    model, tokenizer, defs, meta = load_for_inference(checkpoint, host)
    if task not in defs:
        raise UnknownNameError("task in this checkpoint", task, defs)
    definition, head = defs[task], model.heads[task]
    max_len = definition.max_seq_len or meta.get("config", {}).get("max_seq_len") or tokenizer.model_max_length
    tokenizer.model_max_length = max_len
    hf, reason, difference, spec = None, None, None, None
    try:
        hf = hf_model_for(model.encoder, head, definition)
        difference = max_difference(hf, model, task, tokenizer)
        if not difference <= TOLERANCE:
            reason = f"the {type(hf.model).__name__} layout does not reproduce the mtdnn outputs (max difference {difference:.2g})"
            hf = None
    except NoEquivalent as exc:
        reason = str(exc)
    if hf is None:
        spec = host.pm.hook.export_head(head=head, task=definition)
        if spec is None:
            raise ConversionError(
                f"task '{task}': {reason}, and no loaded plugin exports head '{definition.head}' "
                f"({type(head).__module__}.{type(head).__name__}); the plugin that provides it must implement the "
                f"export_head hook (pass it with --plugin if it is installed but not loaded)")
    pipeline_tag = hf.pipeline_tag if hf else spec.pipeline_tag
    with staged_directory(target, overwrite, inputs) as tmp:
        if hf is not None:
            hf.model.save_pretrained(tmp)
            layout = f"exported as `{type(hf.model).__name__}` ({hf.layout})"
            if pipeline_tag == TOKEN:
                config = json.loads((tmp / "config.json").read_text(encoding="utf-8"))
                add_pipeline(tmp, config, TOKEN)
                (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        else:
            labels, problem = labels_for(definition, spec)
            auto_class, model_class = write_custom_model(tmp, model.encoder, spec, labels, problem, tokenizer,
                                                         model.use_token_types, max_len)
            exported = load_custom_model(tmp, model_class)
            if spec.compare is not None:
                with torch.no_grad():
                    difference = float(spec.compare(exported, model, task, tokenizer))
            else:
                difference = custom_difference(exported, model, task, tokenizer, pipeline_tag)
            if not difference <= TOLERANCE:
                raise ConversionError(f"task '{task}': the exported custom-code model does not reproduce mtdnn's "
                                      f"outputs (difference {difference:.2g}); nothing was written")
            layout = (f"exported as custom code `{spec.head_class}` in `modeling_mtdnn.py`, loaded by "
                      f"`{auto_class}` with `trust_remote_code=True` ({reason})")
        tokenizer.save_pretrained(tmp)
        card = model_card(task, definition, meta, pipeline_tag, layout, max_len, str(target),
                          custom_code=hf is None, notes=spec.notes if spec else ())
        (tmp / "README.md").write_text(card, encoding="utf-8")
    return ExportReport(target, checkpoint, pipeline_tag, layout, difference, reason, custom_code=hf is None)
