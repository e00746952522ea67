"""Exports made before custom-code exports carried a head without a Hugging Face equivalent as
``mtdnn_head.safetensors`` (weights) and ``mtdnn_head.json`` (what to build: head name, options,
task definition) beside the encoder; :func:`load_head` still reads them. ``mtdnn export`` now
writes custom code instead (:mod:`mtdnn_convert.custom_code`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import nn

from mtdnn_convert.errors import ConversionError

WEIGHTS, DESCRIPTION = "mtdnn_head.safetensors", "mtdnn_head.json"


def save_head(head: nn.Module, definition: Any, hidden_size: int, reason: str, plugins: list[str], directory: Path) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().contiguous() for k, v in head.state_dict().items()}, str(directory / WEIGHTS),
              metadata={"format": "pt"})
    record = {"head": definition.head, "class": f"{type(head).__module__}.{type(head).__qualname__}", "plugins": plugins,
              "hidden_size": hidden_size, "task_def": definition.model_dump(), "why_not_transformers": reason,
              "parameters": {k: list(v.shape) for k, v in head.state_dict().items()}}
    (directory / DESCRIPTION).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def load_head(directory: str | Path, host: Any = None) -> tuple[nn.Module, nn.Module]:
    """``(encoder, head)`` from an export with an mtdnn head, both in eval mode."""
    from safetensors.torch import load_file
    from transformers import AutoModel

    from mtdnn_core.api import PluginHost, TaskDef

    directory = Path(directory)
    if not (directory / DESCRIPTION).is_file():
        raise ConversionError(f"{directory}: no {DESCRIPTION}; this export is a plain Hugging Face model")
    record = json.loads((directory / DESCRIPTION).read_text(encoding="utf-8"))
    host = host or PluginHost(record.get("plugins", []))
    task = TaskDef(**record["task_def"])
    head = host.registries.heads.build(task.head, task.head_config, hidden_size=record["hidden_size"], task=task)
    missing, unexpected = head.load_state_dict(load_file(str(directory / WEIGHTS)), strict=False)
    if missing or unexpected:
        raise ConversionError(f"{directory / WEIGHTS}: does not fit head '{task.head}' "
                              f"(missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]})")
    return AutoModel.from_pretrained(directory).eval(), head.eval()
