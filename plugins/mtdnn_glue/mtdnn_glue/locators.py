"""How each GLUE task finds its data: canonical files, or converted from the layout the data
set is distributed in (a GLUE folder, SNLI's and SciTail's own files, QNLI grouped as ranking)."""
from __future__ import annotations

from pathlib import Path

from mtdnn_glue.convert import locate
from mtdnn_glue.definitions import task_defs
from mtdnn_glue.domain import locate_qnli_ranking, locate_scitail, locate_snli

SPECIAL = {"snli": locate_snli, "scitail": locate_scitail, "qnnli": locate_qnli_ranking}


def locator(name: str):
    """The locator of task ``name`` (called with the run's definition, data and work directory)."""
    return SPECIAL.get(name) or locate(name)


def convert_derived(task: str, glue_dir: Path, out_dir: Path) -> dict[str, Path]:
    """A task of the plugin that is not one GLUE folder (``qnnli`` from QNLI, ``snli``,
    ``scitail``) converted as training converts it, written as ``OUT_DIR/{task}_{split}.tsv``;
    intermediate files stay in a temporary directory."""
    import tempfile

    from mtdnn_core.api import atomic_write_bytes

    found = {}
    with tempfile.TemporaryDirectory(prefix="mtdnn-glue-convert-") as work:
        for split, path in locator(task)(task_defs()[task], Path(glue_dir), Path(work)).items():
            target = Path(out_dir) / f"{task}_{split}.tsv"
            if Path(path).resolve() != target.resolve():
                atomic_write_bytes(target, Path(path).read_bytes())
            found[split] = target
    return found
