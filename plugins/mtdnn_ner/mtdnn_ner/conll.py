"""Reading CoNLL-style column files: one token per line, columns separated by white space,
sentences separated by blank lines, ``-DOCSTART-`` lines between documents."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mtdnn_core.api import DataError

DOCSTART = "-DOCSTART-"


@dataclass
class Sentence:
    line: int  # line number of the first token
    rows: list[list[str]]  # one list of columns per token

    def column(self, index: int) -> list[str]:
        return [row[index] for row in self.rows]


def read_conll(path: str | Path) -> list[Sentence]:
    """All sentences of ``path``. Every token line must have as many columns as the first."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    sentences: list[Sentence] = []
    current: list[list[str]] = []
    start, width = 0, None
    with open(path, encoding="utf-8-sig") as handle:  # a BOM before -DOCSTART- is no token
        try:
            lines = list(handle)
        except UnicodeDecodeError:
            from mtdnn_core.api import not_utf8

            raise not_utf8(path) from None
        for number, line in enumerate(lines, 1):
            fields = line.split()
            if not fields or fields[0] == DOCSTART:
                if current:
                    sentences.append(Sentence(start, current))
                    current = []
                continue
            if width is None:
                width = len(fields)
            elif len(fields) != width:
                raise DataError(f"{path}:{number}: {len(fields)} column(s), expected {width} like the first token line")
            if not current:
                start = number
            current.append(fields)
    if current:  # last sentence without a trailing blank line
        sentences.append(Sentence(start, current))
    if not sentences:
        raise DataError(f"{path}: no sentences")
    return sentences


def write_conll(path: str | Path, sentences: list[list[list[str]]]) -> None:
    """Write sentences (lists of column lists) with a blank line after each."""
    from mtdnn_core.api import atomic_write_text

    atomic_write_text(path, "".join("".join(" ".join(row) + "\n" for row in s) + "\n" for s in sentences))
