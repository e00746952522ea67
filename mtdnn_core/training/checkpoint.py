"""Checkpoints: weights as safetensors, training state loaded with ``weights_only=True``, and
human-readable JSON metadata. A checkpoint directory is written under a temporary name and
renamed into place, so a crash never leaves a half-written checkpoint behind.

Layout of ``checkpoint-<step>/``::

    model.safetensors     encoder + heads
    trainer_state.pt      optimizer, scheduler, grad scaler, RNG states (tensors and plain data)
    state.json            step, epoch, position in the epoch, config, task definitions, metrics
    encoder/              the encoder's config and tokenizer, so the checkpoint loads on its own
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model

from mtdnn_core.errors import MtdnnError
from mtdnn_core.io import atomic_write_json

LATEST = "latest.json"


def save_checkpoint(output_dir: Path, name: str, model: torch.nn.Module, tokenizer: Any,
                    trainer_state: dict, meta: dict, keep: int | None = None) -> Path:
    output_dir = Path(output_dir)
    final = output_dir / name
    tmp = output_dir / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_model(model, str(tmp / "model.safetensors"))
    torch.save(trainer_state, tmp / "trainer_state.pt")
    encoder_dir = tmp / "encoder"
    model.encoder.config.save_pretrained(encoder_dir)
    tokenizer.save_pretrained(encoder_dir)
    (tmp / "state.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    atomic_write_json(output_dir / LATEST, {"checkpoint": name, "step": meta.get("step"), "epoch": meta.get("epoch")})
    if keep:
        _prune(output_dir, keep, protect=name)
    return final


def _prune(output_dir: Path, keep: int, protect: str) -> None:
    found = sorted(
        (p for p in output_dir.glob("checkpoint-*") if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: json.loads((p / "state.json").read_text())["step"] if (p / "state.json").exists() else -1,
    )
    for old in found[:-keep]:
        if old.name != protect:
            shutil.rmtree(old, ignore_errors=True)


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory, or a run directory (its latest checkpoint)."""
    path = Path(path)
    if (path / "state.json").is_file():
        return path
    latest = path / LATEST
    if latest.is_file():
        return path / json.loads(latest.read_text())["checkpoint"]
    raise MtdnnError(f"{path}: neither a checkpoint (no state.json) nor a run directory with {LATEST}")


def read_meta(checkpoint: Path) -> dict:
    return json.loads((Path(checkpoint) / "state.json").read_text(encoding="utf-8"))


def load_weights(model: torch.nn.Module, checkpoint: Path) -> None:
    missing, unexpected = load_model(model, str(Path(checkpoint) / "model.safetensors"), strict=False)
    if missing or unexpected:
        raise MtdnnError(
            f"{checkpoint}: weights do not match the model (missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]})"
        )


def load_trainer_state(checkpoint: Path) -> dict:
    return torch.load(Path(checkpoint) / "trainer_state.pt", weights_only=True, map_location="cpu")


def export_encoder(model: torch.nn.Module, tokenizer: Any, target: Path) -> Path:
    """Write the encoder alone (task heads stripped) as a Hugging Face model directory."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.encoder.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    return target
