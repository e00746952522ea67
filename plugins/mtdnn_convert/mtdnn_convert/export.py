"""``mtdnn export``: one task of an mtdnn run as a Hugging Face model directory.

Heads with an exact equivalent become ``AutoModelForSequenceClassification`` /
``AutoModelForTokenClassification`` models (labels, problem type, tokenizer, model card), checked
numerically against the mtdnn model before anything is written. Other heads export the encoder
plus ``mtdnn_head.safetensors`` / ``mtdnn_head.json``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mtdnn_convert.head_files import save_head
from mtdnn_convert.hf_heads import NoEquivalent, hf_model_for, max_difference
from mtdnn_convert.model_card import model_card
from mtdnn_convert.outdir import check_target, staged_directory

TOLERANCE = 1e-4  # float32 logits of the same weights, computed by two code paths


@dataclass
class ExportReport:
    target: Path
    checkpoint: Path
    pipeline_tag: str | None
    layout: str
    difference: float | None
    fallback_reason: str | None


def export_task(run: str | Path, task: str, target: str | Path, plugins: tuple[str, ...] = (),
                overwrite: bool = False) -> ExportReport:
    from mtdnn_core.errors import UnknownNameError
    from mtdnn_core.plugins import PluginHost
    from mtdnn_core.training.checkpoint import read_meta, resolve_checkpoint
    from mtdnn_core.training.inference import load_for_inference

    target = Path(target)
    check_target(target, overwrite)
    checkpoint = resolve_checkpoint(run)
    meta = read_meta(checkpoint)
    plugin_names = list(dict.fromkeys([*meta.get("plugins", []), *plugins]))
    host = PluginHost(plugin_names)
    model, tokenizer, defs, meta = load_for_inference(checkpoint, host)
    if task not in defs:
        raise UnknownNameError("task in this checkpoint", task, defs)
    definition, head = defs[task], model.heads[task]
    max_len = definition.max_seq_len or meta.get("config", {}).get("max_seq_len") or tokenizer.model_max_length
    tokenizer.model_max_length = max_len
    hf, reason, difference = None, None, None
    try:
        hf = hf_model_for(model.encoder, head, definition)
        difference = max_difference(hf, model, task, tokenizer)
        if not difference <= TOLERANCE:
            reason = f"the {type(hf.model).__name__} layout does not reproduce the mtdnn outputs (max difference {difference:.2g})"
            hf = None
    except NoEquivalent as exc:
        reason = str(exc)
    with staged_directory(target, overwrite) as tmp:
        if hf is not None:
            hf.model.save_pretrained(tmp)
            layout = f"exported as `{type(hf.model).__name__}` ({hf.layout})"
        else:
            model.encoder.save_pretrained(tmp)
            save_head(head, definition, model.encoder.config.hidden_size, reason, plugin_names, tmp)
            layout = f"kept as mtdnn's own head in `mtdnn_head.safetensors` ({reason})"
        tokenizer.save_pretrained(tmp)
        card = model_card(task, definition, meta, hf.pipeline_tag if hf else None, layout, max_len, str(target))
        (tmp / "README.md").write_text(card, encoding="utf-8")
    return ExportReport(target, checkpoint, hf.pipeline_tag if hf else None, layout, difference, reason)

