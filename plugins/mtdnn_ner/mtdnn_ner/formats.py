"""Data formats that read CoNLL column files directly: one per column of CoNLL-2003
(word, POS, chunk, NER). NER and chunk tags are converted to IOB2 on reading (the original
files are IOB1; the conversion leaves IOB2 files unchanged). A file with only the word column
reads as unlabeled."""
from __future__ import annotations

from pathlib import Path

from mtdnn_core.api import DataError, Example, Sequence, TaskDef
from mtdnn_ner.conll import read_conll
from mtdnn_ner.schemes import iob1_to_iob2
from mtdnn_ner.schemes import split as split_tag


class ConllColumn(Sequence):
    """Tokens from column 0, tags from ``column`` of a CoNLL file."""

    def __init__(self, name: str, column: int, to_iob2: bool):
        self.name, self.column, self.to_iob2 = name, column, to_iob2
        self.columns = f"word ... tag in column {column}"

    def read(self, path: Path, task: TaskDef, task_type=None) -> list[Example]:
        examples = []
        mapping = task.label_to_id or {}
        for n, sentence in enumerate(read_conll(path)):
            words = sentence.column(0)
            labels = None
            if len(sentence.rows[0]) > 1:
                if len(sentence.rows[0]) <= self.column:
                    raise DataError(f"{path}:{sentence.line}: {len(sentence.rows[0])} column(s); format {self.name} reads column {self.column}")
                tags = sentence.column(self.column)
                if self.to_iob2:  # checked before conversion: the message points at the tag's own line
                    for offset, tag in enumerate(tags):
                        try:
                            split_tag(tag)
                        except DataError as exc:
                            raise DataError(f"{path}:{sentence.line + offset}: {exc}") from None
                    tags = iob1_to_iob2(tags)
                for offset, tag in enumerate(tags):
                    if tag not in mapping:
                        raise DataError(f"{path}:{sentence.line + offset}: unknown tag '{sentence.rows[offset][self.column]}' "
                                        f"for task '{task.name}'; known tags: {', '.join(mapping)}")
                labels = [mapping[t] for t in tags]
            examples.append(Example(uid=f"{Path(path).stem}-{n}", label=labels, words=words))
        return examples


FORMATS = (ConllColumn("CoNLL-NER", 3, True), ConllColumn("CoNLL-POS", 1, False), ConllColumn("CoNLL-chunk", 2, True))
