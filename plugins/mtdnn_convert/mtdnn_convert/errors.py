"""The plugin's error type: the CLI prints it as a message, never as a traceback."""
from __future__ import annotations

from mtdnn_core.api import MtdnnError


class ConversionError(MtdnnError):
    """A checkpoint, run or input file that cannot be converted as asked; the message names the
    file (and tensor, key or line) and says how to fix it."""
