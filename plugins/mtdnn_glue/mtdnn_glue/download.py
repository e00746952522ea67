"""Downloading GLUE from its official locations (or a mirror), with checksums, resumable
transfers and safe extraction.

The official archives publish no checksums: unless a checksum file is given (``--checksums``,
or a ``SHA256SUMS`` file on the mirror), the first download's sha256 is recorded in
``TARGET/SHA256SUMS`` and later downloads must match it. Partial downloads are kept as
``.part`` files and resumed with HTTP range requests. Archives are extracted member by member
after checking that no path leaves the target directory (absolute paths, ``..``, links).
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
from mtdnn_core.io import atomic_write_text, file_sha256

OFFICIAL_BASE = "https://dl.fbaipublicfiles.com/glue/data"
ARCHIVES = {  # task -> archive name (under the base URL) and the folder it extracts to
    "cola": ("CoLA.zip", "CoLA"),
    "sst": ("SST-2.zip", "SST-2"),
    "qqp": ("QQP-clean.zip", "QQP"),
    "stsb": ("STS-B.zip", "STS-B"),
    "mnli": ("MNLI.zip", "MNLI"),
    "qnli": ("QNLIv2.zip", "QNLI"),
    "rte": ("RTE.zip", "RTE"),
    "wnli": ("WNLI.zip", "WNLI"),
}
MRPC_FILES = {  # MRPC comes as the original Microsoft files plus GLUE's dev split ids
    "msr_paraphrase_train.txt": "https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_train.txt",
    "msr_paraphrase_test.txt": "https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_test.txt",
    "dev_ids.tsv": "https://firebasestorage.googleapis.com/v0/b/mtl-sentence-representations.appspot.com/o/data%2Fmrpc_dev_ids.tsv?alt=media&token=ec5c0836-31d5-48f4-b431-7480817f1adc",
}
DIAGNOSTIC = ("diagnostic.tsv", "https://dl.fbaipublicfiles.com/glue/data/AX.tsv")
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
        raise MtdnnError(f"download of {url} failed: {exc.reason} (offline? use --mirror URL)") from None


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


def build_mrpc(folder: Path) -> dict[str, int]:
    """GLUE's MRPC train/dev/test files from the Microsoft files and the dev ids, as the GLUE
    download script builds them."""
    train_src = folder / "msr_paraphrase_train.txt"
    dev_ids = {tuple(line.strip().split("\t")) for line in (folder / "dev_ids.tsv").read_text(encoding="utf-8-sig").splitlines() if line.strip()}
    header = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String"
    lines = train_src.read_text(encoding="utf-8-sig").splitlines()
    train, dev = [header], [header]
    for line in lines[1:]:
        if not line.strip():
            continue
        fields = line.split("\t")
        (dev if (fields[1], fields[2]) in dev_ids else train).append(line)
    counts = {"train": len(train) - 1, "dev": len(dev) - 1}
    atomic_write_text(folder / "train.tsv", "\ufeff" + "\n".join(train) + "\n")
    atomic_write_text(folder / "dev.tsv", "\ufeff" + "\n".join(dev) + "\n")
    test_src = folder / "msr_paraphrase_test.txt"
    if test_src.is_file():
        test = ["index\t#1 ID\t#2 ID\t#1 String\t#2 String"]
        for i, line in enumerate(test_src.read_text(encoding="utf-8-sig").splitlines()[1:]):
            if line.strip():
                _, id1, id2, s1, s2 = line.split("\t")
                test.append(f"{i}\t{id1}\t{id2}\t{s1}\t{s2}")
        atomic_write_text(folder / "test.tsv", "\n".join(test) + "\n")
        counts["test"] = len(test) - 1
    return counts


def download_glue(tasks: list[str], target: Path, mirror: str | None = None, checksums: dict[str, str] | None = None,
                  log=print) -> dict[str, list[str]]:
    """Download, verify and extract ``tasks`` (GLUE names: cola, sst, ..., mrpc, ax) into ``target``
    (relative to the working directory when relative)."""
    target = Path(target).resolve()
    target.mkdir(parents=True, exist_ok=True)
    sums_file = target / "SHA256SUMS"
    known = read_checksums(sums_file.read_text()) if sums_file.is_file() else {}
    if mirror and checksums is None:
        try:
            with urllib.request.urlopen(f"{mirror.rstrip('/')}/SHA256SUMS", timeout=30) as response:  # noqa: S310
                known.update(read_checksums(response.read().decode()))
        except (urllib.error.URLError, OSError):
            log("mirror publishes no SHA256SUMS; checksums are recorded on first download")
    known.update(checksums or {})
    downloads = target / ".downloads"
    done: dict[str, list[str]] = {}

    def get(name: str, official_url: str) -> Path:
        url = f"{mirror.rstrip('/')}/{name}" if mirror else official_url
        path = fetch(url, downloads / name, known.get(name), log=log)
        if name not in known:
            known[name] = file_sha256(path)
            log(f"{name}: no published checksum; recorded sha256 {known[name][:16]}... in {sums_file}")
        return path

    def write_sums() -> None:
        atomic_write_text(sums_file, "".join(f"{v}  {k}\n" for k, v in sorted(known.items())))

    for task in tasks:
        if task in ARCHIVES:
            archive, folder = ARCHIVES[task]
            files = safe_extract(get(archive, f"{OFFICIAL_BASE}/{archive}"), target)
            done[task] = sorted(str(f.relative_to(target)) for f in files)
        elif task == "mrpc":
            folder = target / "MRPC"
            folder.mkdir(exist_ok=True)
            for name, url in MRPC_FILES.items():
                shutil.copy(get(name, url), folder / name)
            done[task] = [f"MRPC/{split}.tsv ({n} rows)" for split, n in build_mrpc(folder).items()]
        elif task == "ax":
            name, url = DIAGNOSTIC
            (target / "diagnostic").mkdir(exist_ok=True)
            shutil.copy(get(name, url), target / "diagnostic" / name)
            done[task] = ["diagnostic/diagnostic.tsv"]
        else:
            known_tasks = ", ".join([*ARCHIVES, "mrpc", "ax"])
            raise MtdnnError(f"unknown GLUE task '{task}' for download; known: {known_tasks}")
        write_sums()  # after each task: checksums of files that extracted, kept even if a later task fails
        log(f"{task}: {len(done[task])} file(s)")
    return done

