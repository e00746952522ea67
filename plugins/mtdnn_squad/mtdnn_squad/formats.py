"""The ``squad_json`` data format: official SQuAD files, read strictly and encoded as windows.

A SQuAD 1.1 task (no "no answer") reading a 2.0 file leaves its unanswerable questions out; it
says how many, since nothing may disappear silently.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from mtdnn_core.api import DataError, DataFormat, TaskDef
from mtdnn_squad.reader import SquadExample, read_squad
from mtdnn_squad.settings import span_settings
from mtdnn_squad.windows import encode_windows


class SquadJson(DataFormat):
    name = "squad_json"
    columns = "official SQuAD JSON (data / paragraphs / qas / answers)"

    def read(self, path: Path, task: TaskDef, task_type=None) -> list[SquadExample]:
        examples = read_squad(path)
        if getattr(task_type, "allows_no_answer", True):
            return examples
        kept = [e for e in examples if not e.is_impossible]
        left_out = len(examples) - len(kept)
        if not kept:
            raise DataError(f"{path}: all {len(examples)} questions are unanswerable; task '{task.name}' is "
                            f"SQuAD 1.1 style (task type span): use a SQuAD 2.0 task (task type span_v2)")
        if left_out:
            warnings.warn(f"{path}: {left_out} unanswerable question(s) left out of task '{task.name}' "
                          f"(task type span has no 'no answer'; span_v2 uses them); {len(kept)} kept",
                          stacklevel=2)
        return kept

    def encode(self, examples: list[SquadExample], tokenizer, max_len: int, task: TaskDef) -> list[dict]:
        return encode_windows(examples, tokenizer, max_len, span_settings(task))
