"""Small file helpers: atomic writes and content hashes."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mtdnn_core.errors import MtdnnError


class WriteError(MtdnnError, OSError):
    """A write that failed (full disk, no permission): a message naming the file, not a traceback;
    still an OSError for callers that handle those."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


#: how torch.save ("unexpected pos", its stream writer) and safetensors ("I/O error") report a full disk
WRITE_FAILURES = ("i/o error", "os error", "no space", "failed writing", "write failed", "unexpected pos")


def is_write_failure(exc: BaseException) -> bool:
    """A failed write (a full disk, no permission), also when a library reports it as its own type."""
    return isinstance(exc, OSError) or (isinstance(exc, Exception) and any(k in str(exc).lower() for k in WRITE_FAILURES))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync, then rename over ``path``; on failure
    the temp file is removed and ``path`` keeps its previous content."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # as a plain open() would create it (mkstemp makes it private)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise WriteError(exc.errno, f"{path}: writing failed ({exc.strerror or exc}); the file keeps its previous "
                                        f"content; free space or choose another location") from None
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
