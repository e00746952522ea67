"""Loading a checkpoint for prediction: the checkpoint carries its encoder config, tokenizer
and task definitions, so neither the original encoder nor the task files are needed."""
from __future__ import annotations

from pathlib import Path

from mtdnn_core.config import TaskDef
from mtdnn_core.plugins import PluginHost
from mtdnn_core.training import checkpoint as ckpt
from mtdnn_core.training.ema import EMA_FILE
from mtdnn_core.training.resolved import resolve_task
from mtdnn_core.training.setup import build_model


def load_for_inference(checkpoint: str | Path, host: PluginHost):
    """Return ``(model, tokenizer, task_defs, meta)`` in eval mode on the CPU; ``checkpoint`` may
    be ``RUN:best``. The weight average is loaded when the run kept one (``--ema-decay``)."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    path = ckpt.resolve_checkpoint(checkpoint)
    meta = ckpt.read_meta(path)
    encoder_dir = path / "encoder"
    encoder = AutoModel.from_config(AutoConfig.from_pretrained(encoder_dir))
    tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
    # resolved as a training run resolves its tasks: the same completed definitions and head configs
    resolved = {name: resolve_task(TaskDef(**body), host.registries) for name, body in meta["task_defs"].items()}
    defs = {name: task.definition for name, task in resolved.items()}
    model = build_model(defs, encoder, host, resolved)
    # a run trained with --ema-decay was evaluated (and its best checkpoint chosen) with the average
    ckpt.load_weights(model, path, EMA_FILE if (path / EMA_FILE).is_file() else "model.safetensors")
    model.eval()
    return model, tokenizer, defs, meta
