"""Weights must be finite numbers: a tensor holding NaN or infinity (a diverged run, a corrupt
download) converts without complaint but makes every output NaN, so it is refused by name."""
from __future__ import annotations

from collections.abc import Iterable

import torch

from mtdnn_convert.errors import ConversionError

LISTED = 20


def non_finite(name: str, value: torch.Tensor) -> str | None:
    """``"name: 3 of 64 values are NaN or infinite"``, or None for a finite (or integer) tensor."""
    if not value.is_floating_point():
        return None
    bad = int((~torch.isfinite(value)).sum())
    return f"{name}: {bad} of {value.numel()} values are NaN or infinite" if bad else None


def refuse_non_finite(tensors: Iterable[tuple[str, torch.Tensor]], where: object) -> None:
    problems = [p for name, value in tensors if (p := non_finite(name, value))]
    if problems:
        shown = [f"  - {p}" for p in problems[:LISTED]]
        if len(problems) > LISTED:
            shown.append(f"  ... and {len(problems) - LISTED} more")
        raise ConversionError(f"{where}: {len(problems)} tensor(s) hold NaN or infinite values (a diverged or "
                              f"corrupt checkpoint); nothing was written:\n" + "\n".join(shown))
