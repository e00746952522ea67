"""The ``Winograd`` data format: any HNN data file (layout from its header, see
:mod:`mtdnn_hnn.readers`), encoded into masked-LM and similarity sequences per candidate."""
from __future__ import annotations

from pathlib import Path

from mtdnn_core.api import DataFormat
from mtdnn_hnn.encoding import encode_schema, require_fast
from mtdnn_hnn.readers import read_schemas


class WinogradFormat(DataFormat):
    name = "Winograd"
    columns = "a header naming the layout (WSC/PDP split sentence, DPRD indexed sentence, WNLI annotated) or WSC XML"
    #: bump when the encoding in mtdnn_hnn.encoding changes, so cached features are rebuilt
    encoding_version = 1

    def read(self, path: Path, task, task_type=None):
        return read_schemas(path)

    def encode(self, examples, tokenizer, max_len, task):
        require_fast(tokenizer)
        return [encode_schema(e, tokenizer, max_len) for e in examples]
