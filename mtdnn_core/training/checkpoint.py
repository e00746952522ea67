"""Checkpoints: weights as safetensors, training state loaded with ``weights_only=True``, and
human-readable JSON metadata. A checkpoint directory is written under a temporary name and
renamed into place, so a crash never leaves a half-written checkpoint behind; the checkpoint
``latest.json`` names is never removed before its replacement is complete.

Layout of ``checkpoint-<step>/``::

    model.safetensors     encoder + heads
    trainer_state.pt      optimizer, scheduler, grad scaler, RNG states (tensors and plain data)
    state.json            step, epoch, position in the epoch, config, task definitions, metrics
    encoder/              the encoder's config and tokenizer, so the checkpoint loads on its own
"""
from __future__ import annotations

import json
from collections.abc import Callable
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model

from mtdnn_core.errors import MtdnnError
from mtdnn_core.io import atomic_write_json, is_write_failure

LATEST = "latest.json"
FILES = ("model.safetensors", "trainer_state.pt", "state.json", "encoder/config.json")


class CheckpointError(MtdnnError):
    """A checkpoint that cannot be used; the message names the file and what to do."""


def save_checkpoint(output_dir: Path, name: str, model: torch.nn.Module, tokenizer: Any,
                    trainer_state: dict, meta: dict, keep: int | None = None,
                    extra: dict[str, Callable[[Path], None]] | None = None,
                    weights: dict[str, torch.Tensor] | None = None) -> Path:
    """Write ``checkpoint <name>``; ``extra`` maps further file names to functions that write
    them (e.g. ``ema.safetensors``), inside the same atomic rename. ``weights``: the model's full
    state when ``model`` is sharded (``--fsdp``), written as the unsharded model's would be."""
    output_dir = Path(output_dir)
    final = output_dir / name
    tmp = output_dir / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        if weights is not None:
            from mtdnn_core.training.sharding import StateOnly

            save_model(StateOnly(weights), str(tmp / "model.safetensors"))
        else:
            save_model(model, str(tmp / "model.safetensors"))
        for file_name, write in (extra or {}).items():
            write(tmp / file_name)
        torch.save(trainer_state, tmp / "trainer_state.pt")
        encoder_dir = tmp / "encoder"
        model.encoder.config.save_pretrained(encoder_dir)
        tokenizer.save_pretrained(encoder_dir)
        (tmp / "state.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        _fsync_tree(tmp)
    except Exception as exc:  # noqa: BLE001 - torch and safetensors report a full disk as their own types
        shutil.rmtree(tmp, ignore_errors=True)
        if not is_write_failure(exc):
            raise
        raise CheckpointError(_write_failed(final, output_dir, exc)) from None
    old = None
    try:
        if final.exists():  # the same step saved again: move the live one aside, never delete it first
            old = output_dir / f".{name}.old-{os.getpid()}"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
        os.replace(tmp, final)
        atomic_write_json(output_dir / LATEST, {"checkpoint": name, "step": meta.get("step"), "epoch": meta.get("epoch")})
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise CheckpointError(_write_failed(final, output_dir, exc)) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    if keep:
        _prune(output_dir, keep, protect=name)
    return final


def _write_failed(final: Path, output_dir: Path, exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    reason = getattr(exc, "strerror", None) or (lines[0] if lines else type(exc).__name__)
    try:
        free = f"; {shutil.disk_usage(output_dir).free / 2**10:,.0f} KiB free on its disk"
    except OSError:
        free = ""
    previous = (f"{output_dir / LATEST} still names the previous complete one" if (output_dir / LATEST).is_file()
                else "no earlier checkpoint of this run was complete")
    return (f"{final}: writing the checkpoint failed ({reason}{free}); the partial checkpoint was removed and "
            f"{previous}; free space, then continue with --resume {output_dir}")


def _fsync_tree(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _step_of(path: Path) -> int:
    try:
        return int(json.loads((path / "state.json").read_text(encoding="utf-8"))["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return -1


def _prune(output_dir: Path, keep: int, protect: str) -> None:
    """Remove all but the ``keep`` newest checkpoints; never ``protect`` nor the best one."""
    from mtdnn_core.training.selection import best_checkpoint_name

    kept = {protect, best_checkpoint_name(output_dir)}
    found = sorted((p for p in output_dir.glob("checkpoint-*") if p.is_dir()), key=_step_of)
    for old in found[:-keep]:
        if old.name not in kept:
            shutil.rmtree(old, ignore_errors=True)


def remove_stale_temporaries(output_dir: Path) -> list[Path]:
    """Half-written checkpoints of crashed processes (``.checkpoint-*.tmp-PID``), and checkpoints
    moved aside during a replacement that did not finish (restored if nothing replaced them)."""
    removed = []
    output_dir = Path(output_dir)
    for moved in output_dir.glob(".checkpoint-*.old-*"):
        final = output_dir / moved.name[1:].rsplit(".old-", 1)[0]
        if not final.exists() and complete(moved):
            os.replace(moved, final)
        else:
            shutil.rmtree(moved, ignore_errors=True)
            removed.append(moved)
    for tmp in output_dir.glob(".checkpoint-*.tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
        removed.append(tmp)
    return removed


def complete(path: Path) -> bool:
    """Every file of a checkpoint is there and its metadata parses."""
    return all((Path(path) / f).is_file() for f in FILES) and _step_of(Path(path)) >= 0


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory, a run directory (its latest checkpoint; the newest complete one,
    with a warning, when ``latest.json`` names a checkpoint that is missing or incomplete) or
    ``RUN:best`` (the best checkpoint by ``metric_for_best``)."""
    from mtdnn_core.training.selection import resolve_best, split_best

    path, best = split_best(path)
    if best:  # RUN:best, the checkpoint best.json names
        return resolve_best(path)
    if (path / "state.json").is_file() or path.name.startswith("checkpoint-"):
        return path
    latest = path / LATEST
    if latest.is_file():
        try:
            named = path / json.loads(latest.read_text(encoding="utf-8"))["checkpoint"]
        except (ValueError, KeyError, TypeError):
            named = None
        if named is not None and complete(named):
            return named
        candidates = sorted((p for p in path.glob("checkpoint-*") if p.is_dir() and complete(p)), key=_step_of)
        if candidates:
            warnings.warn(f"mtdnn: {latest} names {named.name if named else 'nothing readable'}, which is missing or "
                          f"incomplete; using the newest complete checkpoint, {candidates[-1].name}", RuntimeWarning, stacklevel=2)
            return candidates[-1]
        raise CheckpointError(f"{latest}: names a checkpoint that is missing or incomplete and no complete checkpoint is "
                              f"left in {path}; start a new run")
    candidates = sorted((p for p in path.glob("checkpoint-*") if p.is_dir() and complete(p)), key=_step_of)
    if candidates:
        return candidates[-1]
    raise CheckpointError(f"{path}: neither a checkpoint (no state.json) nor a run directory with {LATEST}")


def read_meta(checkpoint: Path) -> dict:
    path = Path(checkpoint) / "state.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing; {checkpoint} is not a complete checkpoint") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: damaged ({exc}); use another checkpoint of the run or start again") from None
    required = {"step": int, "epoch": int, "position": int, "config": dict, "task_defs": dict}
    wrong = [key for key, kind in required.items() if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool)]
    if not isinstance(meta, dict) or wrong:
        raise CheckpointError(f"{path}: missing or invalid field(s) {', '.join(wrong)}; the file was edited or damaged")
    if not (Path(checkpoint) / "encoder" / "config.json").is_file():
        raise CheckpointError(f"{Path(checkpoint) / 'encoder'}: missing (the encoder's config and tokenizer); "
                              f"the checkpoint is incomplete")
    return meta


def load_weights(model: torch.nn.Module, checkpoint: Path, file: str = "model.safetensors", sharded: bool = False) -> None:
    """Load the checkpoint's weights into ``model``; ``sharded``: a model under ``--fsdp`` (every
    rank reads the file and keeps its shard)."""
    path = Path(checkpoint) / file
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; the checkpoint is incomplete")
    try:
        if sharded:
            from safetensors.torch import load_file

            from mtdnn_core.training.sharding import load_full_state

            state = load_file(str(path))
            expected = set(model.state_dict())
            missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
            if not missing and not unexpected:
                load_full_state(model, state)
        else:
            missing, unexpected = load_model(model, str(path), strict=False)
    except RuntimeError as exc:  # shapes: another encoder's or task's weights
        first = str(exc).strip().splitlines()
        raise CheckpointError(f"{path}: the weights do not fit this model ({first[-1] if first else exc}); "
                              f"was it written by another encoder or task set?") from None
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own types for damaged files
        raise CheckpointError(f"{path}: not a readable safetensors file ({type(exc).__name__}: {exc}); "
                              f"the file is truncated or damaged") from None
    if missing or unexpected:
        raise CheckpointError(
            f"{path}: weights do not match the model (missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}); "
            f"was it written by another encoder or task set?"
        )


def load_trainer_state(checkpoint: Path) -> dict:
    path = Path(checkpoint) / "trainer_state.pt"
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; this checkpoint can be used for prediction but not to resume")
    try:
        return torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - zip/pickle errors of a truncated file
        raise CheckpointError(f"{path}: damaged ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                              f"resume from another checkpoint") from None


def export_encoder(model: torch.nn.Module, tokenizer: Any, target: Path) -> Path:
    """Write the encoder alone (task heads stripped) as a Hugging Face model directory; an
    existing ``target`` is replaced only once the new one is complete (callers check that the
    user asked for it: :func:`mtdnn_core.output_paths.check_output`)."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.encoder.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    except Exception as exc:  # noqa: BLE001 - safetensors reports a full disk as its own type
        shutil.rmtree(tmp, ignore_errors=True)
        if not is_write_failure(exc):
            raise
        raise CheckpointError(f"{target}: writing failed ({getattr(exc, 'strerror', None) or exc}); the partial output "
                              f"was removed; free space or choose another location") from None
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    return target
