"""A GLUE file as distributed (with its header row) under a canonical name is refused by the GLUE
plugin itself, naming the file and its own command; canonical files are found as they are."""
import pytest

from mtdnn_core.api import DataError
from mtdnn_core.testing import make_host


def test_a_raw_glue_file_named_as_canonical_is_refused_with_the_plugins_advice(tmp_path):
    rte = make_host(entry_points=("glue",)).registries.tasks.get("rte").factory
    raw = tmp_path / "rte_train.tsv"
    raw.write_text("index\tsentence1\tsentence2\tlabel\n0\tA dog barks.\tAn animal barks.\tentailment\n")
    before = raw.read_bytes()
    with pytest.raises(DataError) as err:
        rte.find_data(tmp_path, tmp_path / "work")
    assert str(err.value).startswith(f"{raw}:1: the first row is a header (index | sentence1 | sentence2 | label)")
    assert "`mtdnn glue convert GLUE_DIR OUT_DIR`" in str(err.value)
    assert raw.read_bytes() == before and not (tmp_path / "work").exists()

    raw.write_text("0\tentailment\tA dog barks.\tAn animal barks.\n")
    assert rte.find_data(tmp_path, tmp_path / "work") == {"train": raw}
