"""Downloading SQuAD from its official location (or a mirror with the same file names).

The files' sha256 are pinned (the values other projects pin for the official files); a
``--checksums`` file overrides them, and a mirror's ``SHA256SUMS`` covers names not pinned.
Transfers resume from ``.part`` files with HTTP range requests (the core's ``fetch``).
"""
from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from mtdnn_core.api import MtdnnError, fetch, read_checksums
from mtdnn_squad.reader import read_squad

OFFICIAL_BASE = "https://rajpurkar.github.io/SQuAD-explorer/dataset"
FILES = {
    "1.1": ("train-v1.1.json", "dev-v1.1.json"),
    "2.0": ("train-v2.0.json", "dev-v2.0.json"),
}
SHA256 = {
    "train-v1.1.json": "3527663986b8295af4f7fcdff1ba1ff3f72d07d61a20f487cb238a6ef92fd955",
    "dev-v1.1.json": "95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9",
    "train-v2.0.json": "68dcfbb971bd3e96d5b46c7177b16c1a4e7d4bdef19fb204502738552dede002",
    "dev-v2.0.json": "80a5225e94905956a6446d296ca1093975c4d3b3260f1d6c8f68bc2ab77182d8",
}


def mirror_checksums(mirror: str) -> dict[str, str]:
    try:
        with urllib.request.urlopen(f"{mirror.rstrip('/')}/SHA256SUMS", timeout=30) as response:  # noqa: S310
            return read_checksums(response.read().decode())
    except (urllib.error.URLError, OSError):
        return {}


def download_squad(versions: list[str], target: Path, mirror: str | None = None,
                   checksums: dict[str, str] | None = None, log: Callable[[str], None] = print) -> dict[str, Path]:
    """Download, verify and check (by reading them) the files of ``versions`` into ``target``."""
    unknown = [v for v in versions if v not in FILES]
    if unknown:
        raise MtdnnError(f"unknown SQuAD version(s) {', '.join(unknown)}; known: {', '.join(FILES)}")
    known = {**(mirror_checksums(mirror) if mirror else {}), **SHA256, **(checksums or {})}
    target = Path(target)
    done = {}
    for version in versions:
        for name in FILES[version]:
            url = f"{mirror.rstrip('/')}/{name}" if mirror else f"{OFFICIAL_BASE}/{name}"
            path = fetch(url, target / name, known.get(name))
            questions = read_squad(path)
            log(f"{name}: {len(questions)} questions, sha256 verified")
            done[name] = path
    return done
