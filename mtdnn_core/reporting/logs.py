"""Console logging of the ``mtdnn`` logger group, as ``mtdnn -v`` / ``mtdnn -q`` set it."""
from __future__ import annotations

import logging
import sys

LEVELS = {-2: logging.ERROR, -1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}


def configure(verbosity: int = 0) -> None:
    """Messages of ``mtdnn.*`` to stderr: INFO by default, DEBUG with ``-v``, WARNING with ``-q``,
    ERROR with ``-qq``. Other libraries' loggers (transformers, its progress bars) keep the
    user's own settings."""
    level = LEVELS[max(-2, min(1, verbosity))]
    logger = logging.getLogger("mtdnn")
    logger.setLevel(level)
    if not any(getattr(h, "_mtdnn_console", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler._mtdnn_console = True
        logger.addHandler(handler)
        logger.propagate = False
    for handler in logger.handlers:
        if getattr(handler, "_mtdnn_console", False):
            fmt = "%(levelname)s %(name)s: %(message)s" if level <= logging.DEBUG else "%(message)s"
            handler.setFormatter(logging.Formatter(fmt))
