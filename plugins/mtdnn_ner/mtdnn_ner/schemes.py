"""Tag-scheme conversion between IOB1, IOB2 and BIOES.

IOB1: ``I-X`` inside a chunk, ``B-X`` only where a chunk follows another of the same type.
IOB2: every chunk starts with ``B-X``. BIOES: ``S-X`` single-token chunks, ``E-X`` chunk ends.
"""
from __future__ import annotations

from mtdnn_core.api import DataError

SCHEMES = ("iob1", "iob2", "bioes")


def split(tag: str) -> tuple[str, str]:
    if tag == "O":
        return "O", ""
    prefix, sep, kind = tag.partition("-")
    if not sep or prefix not in ("B", "I", "E", "S") or not kind:
        raise DataError(f"tag '{tag}' is not O or PREFIX-TYPE with PREFIX in B, I, E, S")
    return prefix, kind


def iob1_to_iob2(tags: list[str]) -> list[str]:
    out, previous = [], "O"
    for tag in tags:
        prefix, kind = split(tag)
        if prefix == "I" and (previous == "O" or split(previous)[1] != kind):
            tag = f"B-{kind}"
        out.append(tag)
        previous = tag
    return out


def iob2_to_iob1(tags: list[str]) -> list[str]:
    out = []
    for i, tag in enumerate(tags):
        prefix, kind = split(tag)
        if prefix == "B":
            previous = tags[i - 1] if i else "O"
            if previous == "O" or split(previous)[1] != kind:
                tag = f"I-{kind}"
        out.append(tag)
    return out


def iob2_to_bioes(tags: list[str]) -> list[str]:
    out = []
    for i, tag in enumerate(tags):
        prefix, kind = split(tag)
        following = tags[i + 1] if i + 1 < len(tags) else "O"
        continues = following == f"I-{kind}"
        if prefix == "B":
            out.append(f"B-{kind}" if continues else f"S-{kind}")
        elif prefix == "I":
            out.append(f"I-{kind}" if continues else f"E-{kind}")
        else:
            out.append(tag)
    return out


def bioes_to_iob2(tags: list[str]) -> list[str]:
    out = []
    for tag in tags:
        prefix, kind = split(tag)
        out.append({"S": f"B-{kind}", "E": f"I-{kind}"}.get(prefix, tag))
    return out


def convert(tags: list[str], source: str, target: str) -> list[str]:
    """Convert ``tags`` from one scheme to another (through IOB2)."""
    if source not in SCHEMES or target not in SCHEMES:
        raise DataError(f"unknown tag scheme; use one of {', '.join(SCHEMES)}")
    iob2 = {"iob1": iob1_to_iob2, "iob2": list, "bioes": bioes_to_iob2}[source](tags)
    return {"iob1": iob2_to_iob1, "iob2": list, "bioes": iob2_to_bioes}[target](iob2)
