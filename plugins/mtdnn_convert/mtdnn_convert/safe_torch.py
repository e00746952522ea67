"""Loading ``.pt`` files without unpickling code: ``torch.load(weights_only=True)`` only rebuilds
tensors and plain containers (dict, list, str, numbers), and refuses any other global, so a
file that smuggles a class or function in is reported, never executed."""
from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

from mtdnn_convert.errors import ConversionError


def load_weights_only(path: str | Path) -> Any:
    path = Path(path)
    if not path.is_file():
        raise ConversionError(f"{path}: no such file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        what = f"'{found.group(1)}'" if found else "an object that is not a tensor or plain data"
        raise ConversionError(
            f"{path}: refused: the file references {what}, which is neither a tensor nor plain data, so loading "
            f"it could run code. Only weights-only files are read; if you trust the file, re-save its 'state' "
            f"(tensors) and 'config' (numbers, strings, lists, dicts) with torch.save in a separate environment."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConversionError(f"{path}: not a readable PyTorch checkpoint (truncated or corrupt?): {first}") from None
