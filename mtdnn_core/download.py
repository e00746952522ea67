"""Downloading data files: resumable transfers with checksums, and safe extraction.

A plugin that fetches its data set (``mtdnn <plugin> download``) uses these, so every download
behaves alike: a transfer goes to ``TARGET.part`` and resumes from there with an HTTP range
request after an interruption; a sha256 given is checked before the file takes its name (a
mismatch removes it); a zip archive is extracted only when none of its members would land
outside the destination (absolute paths, ``..``, links). Nothing here knows a data set.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from mtdnn_core.errors import DataError, MtdnnError
from mtdnn_core.io import file_sha256

CHUNK = 1 << 16


def read_checksums(text: str) -> dict[str, str]:
    """``sha256  name`` lines (as sha256sum writes them)."""
    sums = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 64:
            sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def fetch(url: str, target: Path, expected: str | None = None, progress=None, timeout: float = 60, log=None) -> Path:
    """Download ``url`` to ``target`` through ``target.part``, resuming a partial file; verify
    ``expected`` (sha256) if given. A mismatch removes the download and raises. A ``.part``
    the server cannot resume (HTTP 416: it is as long as, or longer than, the file now served)
    is downloaded again from the start."""
    target = Path(target)
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    response = _open(url, have, timeout)
    if response is None:
        if log:
            log(f"{part}: the server cannot resume after {have} bytes (HTTP 416: the file changed or the partial "
                f"download is stale); downloading {target.name} again from the start")
        have, response = 0, _open(url, 0, timeout)
    with response:
        mode = "ab" if have and response.status == 206 else "wb"
        try:
            with open(part, mode) as handle:
                while block := response.read(CHUNK):
                    handle.write(block)
                    if progress:
                        progress(len(block))
        except OSError as exc:  # a dropped connection or a timeout mid-transfer
            raise MtdnnError(f"download of {url} was interrupted ({exc}); {part.stat().st_size if part.exists() else 0} "
                             f"bytes are kept in {part}: run the command again to resume") from None
    actual = file_sha256(part)
    if expected and actual != expected.lower():
        part.unlink()
        raise DataError(f"{target.name}: checksum mismatch (expected {expected[:12]}..., got {actual[:12]}...): the "
                        f"download is corrupted or was tampered with; it was removed, try again or use another mirror")
    os.replace(part, target)
    return target


def _open(url: str, have: int, timeout: float):
    """The response to a GET of ``url`` from byte ``have`` on; None when the server answers
    416 (range not satisfiable) to a resumed request."""
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - user-chosen URL
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            return None
        raise MtdnnError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise MtdnnError(f"download of {url} failed: {exc.reason} (offline? download from a reachable mirror)") from None


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def safe_extract(archive: Path, destination: Path) -> list[Path]:
    """Extract a zip archive, refusing any member that would land outside ``destination``."""
    destination = Path(destination).resolve()
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise DataError(f"{archive}: not a zip archive (a wrong URL or mirror, or an error page served in its "
                        f"place); nothing was extracted") from None
    with zf:
        for info in zf.infolist():
            name = info.filename
            resolved = (destination / name).resolve()
            if (name.startswith(("/", "\\")) or ".." in Path(name).parts or _is_link(info)
                    or (resolved != destination and destination not in resolved.parents)):
                raise DataError(f"{archive}: refusing to extract '{name}': it would leave {destination}")
        bad = zf.testzip()
        if bad is not None:
            raise DataError(f"{archive}: member '{bad}' is corrupted")
        with tempfile.TemporaryDirectory(dir=destination.parent if destination.parent.exists() else None) as tmp:
            zf.extractall(tmp)
            written = []
            for path in Path(tmp).rglob("*"):
                if path.is_file():
                    final = destination / path.relative_to(tmp)
                    final.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(path), final)
                    written.append(final)
    return written
