"""Downloading GLUE from its official locations (or a mirror), with checksums, resumable
transfers and safe extraction (the core's downloader, ``mtdnn_core.api.fetch``).

The official archives publish no checksums: unless a checksum file is given (``--checksums``,
or a ``SHA256SUMS`` file on the mirror), the first download's sha256 is recorded in
``TARGET/SHA256SUMS`` and later downloads must match it. Partial downloads are kept as
``.part`` files and resumed with HTTP range requests. Archives are extracted member by member
after checking that no path leaves the target directory (absolute paths, ``..``, links).
"""
from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path

from mtdnn_core.api import MtdnnError, atomic_write_text, fetch, file_sha256, read_checksums, safe_extract

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

