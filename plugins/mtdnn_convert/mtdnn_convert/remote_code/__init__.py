"""Sources of the custom-code models that ``mtdnn export`` writes: each module here needs only
torch and transformers (a serving container has no mtdnn), and is copied as text into the export."""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def source(name: str) -> str:
    """The text of module ``name`` of this package, as it goes into an export."""
    return (HERE / f"{name}.py").read_text(encoding="utf-8")
