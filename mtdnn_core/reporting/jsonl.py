"""The ``jsonl`` reporter: the run's log, one JSON record per line in ``OUTPUT_DIR/log.jsonl``
(training losses and learning rates, evaluations, resumes); ``mtdnn plot`` reads it."""
from __future__ import annotations

import json

from mtdnn_core.hookspecs import hookimpl
from mtdnn_core.observers import LogRecord

LOG_FILE = "log.jsonl"


class JsonlReporter:
    def __init__(self, run):
        self.path = run.output_dir / LOG_FILE

    @hookimpl
    def on_log(self, record: LogRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record.data) + "\n")
