"""Output directories that appear whole or not at all: everything is written to a temporary
sibling directory, which is renamed into place only when the command succeeded."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mtdnn_core.api import MtdnnError, TRAIN_RUN_MARKERS, check_output, is_write_failure

from mtdnn_convert.errors import ConversionError


def check_target(target: Path, overwrite: bool, inputs: Iterable[tuple[str, str | Path | None]] = ()) -> None:
    """Refuse, before any work is done, to replace a file or a non-empty directory by accident,
    an input (``(option, path)`` pairs: OUT_DIR is, contains or lies inside it) or a training run,
    even with ``overwrite``."""
    check_output(target, inputs, option="OUT_DIR", overwrite=overwrite, directory=True, foreign=TRAIN_RUN_MARKERS)
    if target.exists() and not target.is_dir():
        raise ConversionError(f"{target} is a file; the output must be a directory")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise ConversionError(f"{target} exists and is not empty; pass --overwrite to replace it, or choose another directory")


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _plain_modes(root: Path) -> None:
    """Give everything under ``root`` the mode a plain ``mkdir``/``open`` makes under the umask:
    some writers (safetensors) create their files private, and another account or a serving
    container must be able to read the output as it could any other file the user writes."""
    mask = current_umask()
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        if path.is_dir():
            os.chmod(path, 0o777 & ~mask)
        elif path.is_file():
            executable = path.stat().st_mode & 0o111
            os.chmod(path, (0o666 | executable) & ~mask)


@contextmanager
def staged_directory(target: str | Path, overwrite: bool = False,
                     inputs: Iterable[tuple[str, str | Path | None]] = ()) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; on success it replaces ``target``, on any
    error (a full disk too) it is removed, so a failed command leaves no partial output."""
    target = Path(target)
    check_target(target, overwrite, inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    os.chmod(tmp, 0o777 & ~current_umask())  # as a plain mkdir would make it (mkdtemp makes it private)
    try:
        yield tmp
        _plain_modes(tmp)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, MtdnnError) or not is_write_failure(exc):
            raise
        raise ConversionError(f"{target}: writing failed ({getattr(exc, 'strerror', None) or exc}); the partial output "
                              f"was removed, {target} is as it was; free space or choose another directory") from None
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
