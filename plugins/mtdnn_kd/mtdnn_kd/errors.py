"""The plugin's error: soft labels that do not fit the run they are used in."""
from __future__ import annotations

from mtdnn_core.api import DataError


class SoftLabelError(DataError):
    """Soft labels that are missing, malformed, or were made for other data, labels or tokenizer;
    the message names the file or uid and how to fix it."""
