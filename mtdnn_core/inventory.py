"""What the installed plugins provide, cached so ``mtdnn --help`` and ``mtdnn plugins`` start in a
fraction of a second without importing torch or any plugin.

The inventory (plugin commands with their one-line help; every plugin with what it registers,
refusals and failures) is computed by loading everything once and stored under
``$MTDNN_CACHE_DIR`` (default ``$XDG_CACHE_HOME/mtdnn`` or ``~/.cache/mtdnn``; ``off`` disables
it). It is keyed by a fingerprint of the environment: this Python's prefix, the entry points of
the ``mtdnn`` group with their distributions and versions, the modification times of the
plugins' and the core's source files, and the plugin-selection variables. Installing, removing
or editing a plugin therefore rebuilds it on the next call; ``mtdnn plugins --refresh`` forces it.
Running a plugin's command always loads the plugin itself.
"""
from __future__ import annotations

import hashlib
import importlib.metadata as md
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

ENTRY_POINT_GROUP = "mtdnn"
ENV_CACHE = "MTDNN_CACHE_DIR"
ENV_SELECTION = ("MTDNN_PLUGINS", "MTDNN_DISABLE_PLUGINS", "MTDNN_STRICT_PLUGINS")
VERSION = 1


def cache_dir() -> Path | None:
    value = os.environ.get(ENV_CACHE)
    if value is not None:
        return None if value.strip().lower() in ("", "off", "0", "none") else Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mtdnn"


def _newest_source(path: Path | None) -> float:
    """The newest modification time of the Python files of a package (or of one module)."""
    if path is None:
        return 0.0
    if path.is_file():
        return path.stat().st_mtime
    newest = 0.0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith((".", "__pycache__")) and d != "tests"]
        for name in files:
            if name.endswith(".py"):
                newest = max(newest, os.stat(os.path.join(root, name)).st_mtime)
    return newest


def _source_of(module: str) -> Path | None:
    """Where a top-level module or package lives, found without importing it."""
    try:
        spec = importlib.util.find_spec(module.split(".", 1)[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin) if spec.origin else None


def fingerprint() -> str:
    parts: list[Any] = [VERSION, sys.prefix, sys.version, _newest_source(Path(__file__).parent)]
    for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = ep.dist
        parts.append([ep.name, ep.value, dist.name if dist else "", dist.version if dist else "",
                      _newest_source(_source_of(ep.value.split(":", 1)[0]))])
    parts.append([os.environ.get(name, "") for name in ENV_SELECTION])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:24]


def _cache_file() -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    return folder / f"inventory-{hashlib.sha256(sys.prefix.encode()).hexdigest()[:12]}.json"


def build() -> dict:
    """Load every installed plugin and record its commands and registrations (slow: imports
    plugins and the core's components)."""
    import warnings

    import click

    from mtdnn_core.plugins import PluginHost, describe_installed

    group = click.Group()
    host = PluginHost(load_all=True, builtins=False, survey=True)
    with warnings.catch_warnings():
        if not host.strict:
            warnings.simplefilter("ignore")
        host.add_commands(group)
    commands = {name: command.get_short_help_str(limit=60) for name, command in group.commands.items()}
    plugins = [{k: (sorted(v) if isinstance(v, set) else v) for k, v in info.__dict__.items() if k != "provides"}
               for info in describe_installed()]
    return {"commands": commands, "plugins": plugins}


def load(refresh: bool = False) -> dict:
    """The inventory: from the cache when its fingerprint matches, else built (and stored)."""
    path = _cache_file()
    key = fingerprint()
    if path is not None and path.is_file() and not refresh:
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
            if cached.get("fingerprint") == key:
                return cached
        except (OSError, ValueError):
            pass
    inventory = {"fingerprint": key, **build()}
    if path is not None:
        try:
            from mtdnn_core.io import atomic_write_json

            atomic_write_json(path, inventory)
        except OSError:  # a read-only home: work without the cache
            pass
    return inventory
