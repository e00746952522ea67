"""Where a command may write: one set of rules for every output option, so that no command
replaces or deletes what it was given to read, or another tool's files.

* An output that is, contains or sits inside one of the command's inputs is refused (symbolic
  links resolved, the same file under two names recognised), ``--overwrite`` or not.
* A dangling symbolic link (the output itself or a directory above it) is refused: writing
  through it would fail half-way or create files somewhere unexpected.
* A directory that holds files of another kind of run (``foreign`` markers, e.g. a training run's
  ``log.jsonl``) is refused; a directory holding the command's own earlier output (``own``
  markers) is replaced only with ``--overwrite``.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from mtdnn_core.errors import MtdnnError

#: names (glob patterns) that mark an ``mtdnn train`` run directory
TRAIN_RUN_MARKERS = ("log.jsonl", "latest.json", "summary.json", "best.json", "checkpoint-*")


class OutputPathError(MtdnnError):
    """An output path that would destroy an input or another run; the message names both paths
    and the option."""


def _resolved(path: Path) -> Path:
    return Path(os.path.abspath(path)).resolve(strict=False)


def same_path(a: str | Path, b: str | Path) -> bool:
    """``a`` and ``b`` name the same file or directory (links, ``..`` and hard links included)."""
    a, b = Path(a), Path(b)
    if a.exists() and b.exists():
        try:
            return os.path.samefile(a, b)
        except OSError:
            pass
    return _resolved(a) == _resolved(b)


def relation(output: str | Path, source: str | Path) -> str | None:
    """How ``output`` lies to ``source``: ``"is"``, ``"contains"``, ``"inside"`` or None."""
    if same_path(output, source):
        return "is"
    out, src = _resolved(Path(output)), _resolved(Path(source))
    if out in src.parents:
        return "contains"
    if src in out.parents:
        return "inside"
    return None


def dangling_link(path: str | Path) -> Path | None:
    """The first of ``path`` and its parents that is a symbolic link to nothing, else None."""
    path = Path(os.path.abspath(path))
    for candidate in (path, *path.parents):
        if candidate.is_symlink() and not candidate.exists():
            return candidate
    return None


def check_output(output: str | Path, inputs: Iterable[tuple[str, str | Path | None]] = (), option: str = "--output",
                 overwrite: bool = False, directory: bool = False, own: Iterable[str] = (),
                 foreign: Iterable[str] = (), replaces: bool = False, exclusive: bool = False,
                 allow_inside: bool = False, again: str = "pass --overwrite to replace it") -> Path:
    """Refuse ``output`` (given as ``option``) before any work is done, when writing there would
    destroy something the command did not create; return it as a Path.

    * ``inputs``: ``(option, path)`` pairs of what the command reads (None, non-paths and paths
      that do not exist are skipped: nothing there can be harmed).
    * ``directory``: the output is a directory. ``own``: names that mark this command's earlier
      output there (replaced only with ``overwrite``; ``again`` says what else to do);
      ``foreign``: names or glob patterns that mark another tool's run (always refused).
    * ``replaces``: the command replaces the whole directory, so a non-empty one needs
      ``overwrite``. ``exclusive``: the command fills the directory with files of fixed names,
      so a non-empty one must hold its own earlier output (an ``own`` name).
    * ``allow_inside``: writing below an input directory is harmless for this command (it only
      adds new files there); an existing file there is still refused.
    """
    output = Path(output)
    link = dangling_link(output)
    if link is not None:
        raise OutputPathError(f"{option} {output}: {link} is a symbolic link to {os.readlink(link)}, which does not "
                              f"exist; create the target or choose another path")
    for name, source in inputs:
        if source is None or str(source) == "" or not Path(source).exists():
            continue
        kind = relation(output, source)
        if kind == "inside" and allow_inside and output.is_file():
            raise OutputPathError(f"{option} {output} is a file of the input {name} {source}; writing there would "
                                  f"replace it: choose a new file name")
        if kind is None or (kind == "inside" and allow_inside):
            continue
        what = {"is": "is the same path as", "contains": "contains", "inside": "lies inside"}[kind]
        raise OutputPathError(f"{option} {output} {what} the input {name} {source}; writing there would replace or "
                              f"delete the input (--overwrite never allows this): choose an output outside the input")
    if output.exists() and output.is_dir() and directory:
        found = [name for name in foreign if any(output.glob(name))]
        if found:
            raise OutputPathError(f"{option} {output}: holds another run's files ({', '.join(found)}); this command does "
                                  f"not replace them, even with --overwrite: choose a new or empty directory")
        if replaces and not overwrite and any(output.iterdir()):
            raise OutputPathError(f"{option} {output}: exists and is not empty; pass --overwrite to replace it, or "
                                  f"choose another directory")
        mine = [name for name in own if (output / name).exists()]
        if exclusive and not mine and any(output.iterdir()):
            raise OutputPathError(f"{option} {output}: not empty, and none of it is this command's earlier output "
                                  f"({', '.join(own)}); choose a new or empty directory")
        if mine and not overwrite:
            raise OutputPathError(f"{option} {output}: already holds this command's output ({', '.join(mine)}); "
                                  f"{again}, or choose another directory")
    elif output.exists() and directory and not output.is_dir():
        raise OutputPathError(f"{option} {output}: exists and is not a directory; choose another path")
    elif output.is_dir() and not directory:
        raise OutputPathError(f"{option} {output}: is a directory; give a file name")
    return output


def check_default_output(default: str | Path, option: str) -> Path:
    """A default output path (the user named none) never replaces an existing file: naming it with
    ``option`` is how the user says it may be replaced."""
    default = Path(default)
    if default.exists() or default.is_symlink():
        raise OutputPathError(f"{option} not given and its default {default} exists (an earlier output?); pass "
                              f"{option} {default} to replace it, or {option} with another path")
    return default

