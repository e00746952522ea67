"""The on-disk feature store: every value shape comes back as written, read lazily."""
import numpy as np
import pytest

from mtdnn_core.data.store import FeatureStore, FeatureWriter, write_store
from mtdnn_core.errors import MtdnnError

ROWS = [
    {"uid": "a", "label": 1, "score": 0.5, "input_ids": [101, 7, 102], "cands": [[1, 2], [3]], "words": ["x", "y"]},
    {"uid": "b", "label": None, "score": 2.0, "input_ids": [101, 102], "cands": [[4, 5, 6]], "words": None},
    {"uid": "ç", "label": 0, "score": -1.25, "input_ids": [], "cands": [], "words": ["é"]},
]


def test_round_trip_of_every_shape(tmp_path):
    store = write_store(tmp_path / "s", ROWS)
    assert len(store) == 3 and store.fields["input_ids"]["kind"] == "ragged" and store.fields["cands"]["kind"] == "ragged2"
    for i, row in enumerate(ROWS):
        got = store[i]
        assert got["uid"] == row["uid"] and got["label"] == row["label"] and got["score"] == row["score"]
        assert got["input_ids"].tolist() == row["input_ids"] and got["words"] == row["words"]
        assert [c.tolist() for c in got["cands"]] == row["cands"]
    assert store.column("label") == [1, None, 0]
    assert store.present("label").tolist() == [True, False, True]
    assert store.lengths("input_ids").tolist() == [3, 2, 0]
    assert store.nested_lengths("cands").tolist() == [4, 3, 0]  # longest inner list x count


def test_written_in_chunks_equals_written_at_once(tmp_path):
    writer = FeatureWriter(tmp_path / "chunks")
    writer.add(ROWS[:1])
    writer.add(ROWS[1:])
    chunked, whole = writer.finish(), write_store(tmp_path / "whole", ROWS)
    for i in range(3):
        a, b = chunked[i], whole[i]
        assert a["uid"] == b["uid"] and a["input_ids"].tolist() == b["input_ids"].tolist()


def test_reads_lazily_through_memory_maps(tmp_path):
    store = FeatureStore(write_store(tmp_path / "s", [{"uid": str(i), "input_ids": [i] * 3} for i in range(100)]).directory)
    assert isinstance(store._array("input_ids", "bin"), np.memmap)
    assert store[57]["input_ids"].tolist() == [57, 57, 57] and store[-1]["uid"] == "99"
    with pytest.raises(IndexError):
        store[100]


def test_a_field_that_changes_shape_is_an_error_and_leaves_nothing(tmp_path):
    writer = FeatureWriter(tmp_path / "bad")
    writer.add([{"uid": "a", "label": 1}])
    with pytest.raises(MtdnnError, match="feature 'label' changes shape"):
        writer.add([{"uid": "b", "label": [1, 2]}])
    writer.abort()
    assert not list(tmp_path.iterdir())


def test_a_damaged_store_names_its_directory(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "meta.json").write_text("{trunc")
    with pytest.raises(MtdnnError, match="not a readable feature store"):
        FeatureStore(tmp_path / "s")


def test_concurrent_writers_of_one_store_keep_the_first_and_leave_no_temporary_files(tmp_path):
    # torchrun's ranks tokenize the same file into the same cache entry: the one that finishes second
    # neither fails nor removes the store the first one is already reading
    first, second = FeatureWriter(tmp_path / "s"), FeatureWriter(tmp_path / "s")
    first.add(ROWS)
    second.add(ROWS)
    a = first.finish(keep_existing=True)
    before = (tmp_path / "s" / "meta.json").stat().st_ino
    b = second.finish(keep_existing=True)
    assert (tmp_path / "s" / "meta.json").stat().st_ino == before  # the first store stayed in place
    assert [p.name for p in tmp_path.iterdir()] == ["s"]  # the second copy was dropped
    for i, row in enumerate(ROWS):
        assert a[i]["uid"] == b[i]["uid"] == row["uid"] and a[i]["input_ids"].tolist() == row["input_ids"]


def test_remains_of_an_unfinished_store_are_replaced(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "label.bin").write_bytes(b"\0")  # no meta.json: never finished
    writer = FeatureWriter(tmp_path / "s")
    writer.add(ROWS)
    assert writer.finish(keep_existing=True).column("label") == [1, None, 0]
    assert [p.name for p in tmp_path.iterdir()] == ["s"]
