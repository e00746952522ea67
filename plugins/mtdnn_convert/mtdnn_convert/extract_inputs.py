"""The input of ``mtdnn extract``: one text per line, or a pair split by ``|||`` (the original
toolkit's format, ``first text ||| second text``)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mtdnn_convert.errors import ConversionError

SEPARATOR = "|||"


@dataclass(frozen=True)
class InputLine:
    text: str
    pair: str | None = None


def read_lines(path: str | Path) -> list[InputLine]:
    path = Path(path)
    if not path.is_file():
        raise ConversionError(f"{path}: no such input file")
    try:
        raw = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise ConversionError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    out = []
    for number, line in enumerate(raw, 1):
        parts = [p.strip() for p in line.split(SEPARATOR)]
        if len(parts) > 2:
            raise ConversionError(f"{path}:{number}: '{SEPARATOR}' appears {len(parts) - 1} times; a line is one text "
                                  f"or a pair 'first {SEPARATOR} second'")
        if not all(parts):
            what = "empty line" if not line.strip() else f"empty text beside '{SEPARATOR}'"
            raise ConversionError(f"{path}:{number}: {what}; every line must hold a text (remove blank lines)")
        out.append(InputLine(parts[0], parts[1] if len(parts) == 2 else None))
    if not out:
        raise ConversionError(f"{path}: no lines to encode")
    return out


def parse_layers(value: str, num_layers: int) -> list[int]:
    """``"-1,-2"`` -> [-1, -2]; 0 is the embedding output, 1..L the layers, -1 the last."""
    try:
        layers = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ConversionError(f"--layers {value}: expected comma-separated integers, e.g. -1,-2") from None
    if not layers:
        raise ConversionError("--layers: give at least one layer, e.g. -1")
    bad = [v for v in layers if not -(num_layers + 1) <= v <= num_layers]
    if bad:
        raise ConversionError(f"--layers: {bad} out of range for an encoder with {num_layers} layers "
                              f"(0 = embeddings, 1..{num_layers}, or -1..-{num_layers + 1} from the top)")
    return layers
