"""GLUE submission files: one TSV per task as the GLUE server expects them (``index`` and
``prediction``, labels spelled as GLUE spells them), zipped together."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

from mtdnn_core.api import MtdnnError

# file name -> (dataset name in a run, how predictions are written)
FILES = {
    "CoLA.tsv": ("cola_test", "int"),
    "SST-2.tsv": ("sst_test", "int"),
    "MRPC.tsv": ("mrpc_test", "int"),
    "STS-B.tsv": ("stsb_test", "score"),
    "QQP.tsv": ("qqp_test", "int"),
    "MNLI-m.tsv": ("mnli_matched_test", "label"),
    "MNLI-mm.tsv": ("mnli_mismatched_test", "label"),
    "QNLI.tsv": ("qnli_test", "label"),
    "RTE.tsv": ("rte_test", "label"),
    "WNLI.tsv": ("wnli_test", "int"),
    "AX.tsv": ("mnli_ax", "label"),
}


# rows of each GLUE test set: a file with fewer (a run cut by --max-eval-samples) is refused
TEST_ROWS = {"CoLA.tsv": 1063, "SST-2.tsv": 1821, "MRPC.tsv": 1725, "STS-B.tsv": 1379, "QQP.tsv": 390965,
             "MNLI-m.tsv": 9796, "MNLI-mm.tsv": 9847, "QNLI.tsv": 5463, "RTE.tsv": 3000, "WNLI.tsv": 146, "AX.tsv": 1104}


def latest_scores(run_dir: Path, dataset: str) -> Path | None:
    """The score file of ``dataset`` from the run's last evaluation."""
    history = json.loads((run_dir / "metrics.json").read_text()) if (run_dir / "metrics.json").is_file() else []
    for record in reversed(history):
        path = run_dir / "scores" / f"{dataset}.{record['tag']}.json"
        if path.is_file():
            return path
    found = sorted((run_dir / "scores").glob(f"{dataset}.*.json"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def format_prediction(value, kind: str) -> str:
    if kind == "score":
        return f"{min(5.0, max(0.0, float(value))):.3f}"
    return str(value)


def write_submission(run_dirs: list[Path], out_dir: Path, zip_path: Path | None = None) -> dict[str, int]:
    """Collect the test predictions of one or more runs into GLUE's files; return rows per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for file_name, (dataset, kind) in FILES.items():
        source = next((p for p in (latest_scores(Path(r), dataset) for r in run_dirs) if p), None)
        if source is None:
            continue
        scores = json.loads(source.read_text())
        if len(scores["uids"]) != TEST_ROWS[file_name]:
            raise MtdnnError(f"{source}: {len(scores['uids'])} predictions, but the GLUE test set of {file_name} has "
                             f"{TEST_ROWS[file_name]} rows (was the run started with --max-eval-samples?); predict "
                             f"the whole test set, e.g. mtdnn predict --checkpoint RUN --task ... --data <task>_test.tsv")
        lines = ["index\tprediction"] + [f"{uid}\t{format_prediction(pred, kind)}"
                                         for uid, pred in zip(scores["uids"], scores["predictions"])]
        (out_dir / file_name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        written[file_name] = len(lines) - 1
    if not written:
        raise MtdnnError(f"no test-set predictions found in {', '.join(map(str, run_dirs))} (scores/<task>_test.*.json)")
    if zip_path is not None:
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for file_name in written:
                archive.write(out_dir / file_name, arcname=file_name)
    return written
