"""Continual masked-LM pre-training through the trainer (ALUM, ``mtdnn alum pretrain``).

:func:`continue_pretraining` turns a text corpus into the core's built-in ``mlm`` task and trains it with the
ordinary trainer, so pre-training gets what fine-tuning has: exact resume, mixed precision,
gradient accumulation, the run's log and reporters, evaluations of the held-out loss, the best
checkpoint. Regularizers apply to the masked positions (ALUM: the ``alum`` plugin's ``smart``
regularizer, ``adv_alpha`` as its ``alpha``). The result is written as a Hugging Face
``AutoModelForMaskedLM`` directory, usable as ``--encoder`` (and by ``AutoModelForMaskedLM``).
"""
from __future__ import annotations

import json
import math
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

from mtdnn_core.api import DataError, atomic_write_json, check_utf8

TASK = "mlm"


def _corpus_dir(corpus: Path, work: Path) -> Path:
    """A data directory where the corpus is the ``mlm`` task's training file."""
    corpus = Path(corpus)
    if not corpus.is_file():
        raise DataError(f"{corpus}: no such corpus file (plain text, or JSON lines with a 'text' field)")
    check_utf8(corpus)  # before anything is created
    folder = work / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / f"{TASK}_train{corpus.suffix if corpus.suffix in ('.json', '.jsonl', '.txt') else '.txt'}"
    if link.is_symlink() or link.exists():
        link.unlink()
    try:
        os.symlink(corpus.resolve(), link)
    except OSError:  # no symlinks here: copy
        shutil.copyfile(corpus, link)
    return folder


def export_masked_lm(model: Any, tokenizer: Any, task: str, target: Path) -> Path:
    """Write the encoder with ``task``'s masked-LM head as an ``AutoModelForMaskedLM`` directory;
    architectures whose head naming is unknown get the encoder alone (with a warning). The
    encoder's pooler is written too (masked-LM classes have none and skip it when loading), so
    the directory loads as the whole encoder (``AutoModel``, ``--encoder``) with nothing missing."""
    import torch
    from transformers import AutoModelForMaskedLM

    from mtdnn_core.api import PRETRAINED_NAMES

    target = Path(target)
    encoder = model.encoder
    full = AutoModelForMaskedLM.from_config(encoder.config)
    missing, unexpected = full.base_model.load_state_dict(encoder.state_dict(), strict=False)
    if missing or any(not k.startswith("pooler.") for k in unexpected):  # masked-LM models have no pooler
        raise RuntimeError(f"encoder and masked-LM model differ: missing {missing[:5]}, unexpected {unexpected[:5]}")
    theirs = full.state_dict()
    head = dict(model.heads[task].named_parameters())
    names = next((n for n in PRETRAINED_NAMES if set(n.values()) <= set(theirs)), None)
    if names is None:
        warnings.warn(f"{type(full).__name__}: unknown masked-LM head layout; only the encoder is written", RuntimeWarning,
                      stacklevel=2)
        encoder.save_pretrained(target)
    else:
        with torch.no_grad():
            for mine, name in names.items():
                full.get_parameter(name).copy_(head[mine])
        full.tie_weights()
        state = full.state_dict()
        prefix = f"{full.base_model_prefix}." if full.base_model is not full else ""
        state.update({prefix + k: v for k, v in encoder.state_dict().items() if k.startswith("pooler.")})
        full.save_pretrained(target, state_dict=state)
    tokenizer.save_pretrained(target)
    return target


def continue_pretraining(encoder: str, corpus: str | Path, output: str | Path, *, steps: int = 100, batch_size: int = 16,
                         max_len: int = 128, lr: float = 5e-5, mask_prob: float = 0.15, whole_word: bool = False,
                         regularizers: list[dict] | None = None, plugins: list[str] | None = None, seed: int = 1,
                         eval_every: int | None = None, save_every: int | None = None, precision: str = "fp32",
                         device: str = "auto", grad_accumulation: int = 1, warmup: float = 0.0, resume: bool = False,
                         report_to: list[str] | None = None, num_threads: int | None = None,
                         log_every: int | None = None, progress: bool = True, overwrite: bool = False,
                         model_dir: str | Path | None = None) -> dict:
    """Train ``encoder`` on masked-LM over ``corpus`` for ``steps`` updates (every tenth paragraph
    held out); write the model (AutoModelForMaskedLM) to ``model_dir`` (default ``OUTPUT/model``)
    and ``OUTPUT/pretrain_summary.json`` with the held-out loss before and after. The run itself
    lives in ``OUTPUT/run`` (continue it with ``resume=True``; ``overwrite=True`` replaces it)."""
    from mtdnn_core.api import PluginHost, Trainer, build_train_config, compute_metrics, predict

    output = Path(output)
    data = _corpus_dir(Path(corpus), output)
    config = build_train_config({
        "tasks": [TASK], "encoder": encoder, "data_dir": str(data), "output_dir": str(output / "run"),
        "plugins": list(plugins or []), "epochs": 10**6, "max_steps": steps, "batch_size": batch_size,
        "max_seq_len": max_len, "lr": lr, "warmup": warmup, "seed": seed, "precision": precision, "device": device,
        "grad_accumulation": grad_accumulation, "eval_every": eval_every, "save_every": save_every, "eval_splits": ["dev"],
        "regularizers": list(regularizers or []),
        "task_overrides": {TASK: {"head_config": {"mask_prob": mask_prob, "whole_word": whole_word}}},
        "report_to": list(report_to or ["jsonl"]), "num_threads": num_threads,
        "log_every": log_every or max(1, steps // 100),  # a curve of about a hundred points
        "resume": str(output / "run") if resume else None, "overwrite": overwrite,
    }, "continue_pretraining")
    trainer = Trainer(config, PluginHost(config.plugins), progress=progress)
    before_file = output / "heldout_before.json"  # measured once, before the first update; kept for a resumed run
    if not resume:
        before = {d.name: compute_metrics(d, predict(trainer.model, d, config.eval_batch_size, trainer.device,
                                                     trainer.pad_id, trainer.autocast), trainer.registries.metrics)
                  for d in trainer.data.eval}  # the held-out set: the plan scores dev only
        if trainer.dist.is_main:
            atomic_write_json(before_file, before)
    else:
        before = json.loads(before_file.read_text()) if before_file.is_file() else None
    summary = trainer.train()
    if not trainer.dist.is_main:  # rank 0 writes the model and the summary
        return {}
    after = summary["history"][-1]["metrics"] if summary["history"] else {}
    model = trainer.ema.model if trainer.ema is not None else trainer.model
    model_dir = Path(model_dir) if model_dir is not None else output / "model"
    export_masked_lm(model, trainer.tokenizer, TASK, model_dir)
    loss_before = (before or {}).get(f"{TASK}_dev", {}).get("mlm_loss")
    loss_after = after.get(f"{TASK}_dev", {}).get("mlm_loss")
    result = {"encoder": encoder, "corpus": str(corpus), "steps": summary["step"], "model": str(model_dir),
              "run": str(output / "run"), "train_blocks": sum(len(d) for d in trainer.data.train),
              "heldout_blocks": sum(len(d) for d in trainer.data.eval),
              "heldout_mlm_loss_before": loss_before, "heldout_mlm_loss_after": loss_after,
              "heldout_perplexity_after": None if loss_after is None else math.exp(loss_after),
              "regularizers": [r["name"] for r in (regularizers or [])]}
    atomic_write_json(output / "pretrain_summary.json", result)
    return result
