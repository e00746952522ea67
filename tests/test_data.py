"""Canonical formats, tokenization, the feature cache and batching."""
import pytest
import torch

from mtdnn_core.config import parse_task_defs
from mtdnn_core.data.batching import collate
from mtdnn_core.data.features import encode_file
from mtdnn_core.data.formats import IGNORE_INDEX, PremiseAndMultiHypothesis, PremiseAndOneHypothesis, PremiseOnly, Sequence
from mtdnn_core.errors import DataError



def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


DEFS = parse_task_defs(
    "rte:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n  labels: [not_entailment, entailment]\n"
    "sst:\n  data_format: PremiseOnly\n  task_type: Classification\n"
    "stsb:\n  data_format: PremiseAndOneHypothesis\n  task_type: Regression\n"
    "qnli:\n  data_format: PremiseAndMultiHypothesis\n  task_type: Ranking\n"
    "ner:\n  data_format: Sequence\n  task_type: SequenceLabeling\n  labels: [O, B-PER, I-PER]\n"
)


def test_pair_reader_maps_labels_and_keeps_quotes(tmp_path):
    path = write(tmp_path / "rte_dev.tsv", '1\tentailment\tHe said "hi.\tA man spoke.\n2\t0\tx\ty\n3\t\tno label\there\n')
    rows = PremiseAndOneHypothesis().read(path, DEFS["rte"])
    assert [r.label for r in rows] == [1, 0, None]
    assert rows[0].texts == ['He said "hi.', "A man spoke."]


def test_unknown_label_names_row_and_known_labels(tmp_path):
    path = write(tmp_path / "rte_train.tsv", "1\tentailment\ta\tb\n2\tneutral\ta\tb\n")
    with pytest.raises(DataError, match=r"rte_train.tsv:2: column 'label': unknown label 'neutral' .* known labels: not_entailment, entailment"):
        PremiseAndOneHypothesis().read(path, DEFS["rte"])


def test_wrong_column_count_names_file_row_and_columns(tmp_path):
    path = write(tmp_path / "sst_train.tsv", "1\t1\tgood\n2\t0\n")
    with pytest.raises(DataError, match=r"sst_train.tsv:2: 2 column\(s\), expected 3 \(uid, label, premise\)"):
        PremiseOnly().read(path, DEFS["sst"])


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        PremiseOnly().read(tmp_path / "nope.tsv", DEFS["sst"])
    with pytest.raises(DataError, match="no rows"):
        PremiseOnly().read(write(tmp_path / "empty.tsv", "\n"), DEFS["sst"])
    with pytest.raises(DataError, match="is not a number"):
        PremiseAndOneHypothesis().read(write(tmp_path / "s.tsv", "1\thigh\ta\tb\n"), DEFS["stsb"])
    with pytest.raises(DataError, match="outside 0..1"):
        PremiseOnly().read(write(tmp_path / "c.tsv", "1\t2\ta\n"), DEFS["sst"])


def test_multi_hypothesis_and_sequence_formats(tmp_path):
    path = write(tmp_path / "q.tsv", "q1\tc1,c2,c3\tc2\tWho?\tA.\tB.\tC.\nq2\ta,b\t0\tWhat?\tX.\tY.\n")
    rows = PremiseAndMultiHypothesis().read(path, DEFS["qnli"])
    assert [r.label for r in rows] == [1, 0] and rows[0].texts == ["Who?", "A.", "B.", "C."]
    seq = write(tmp_path / "ner.tsv", "s1\t['B-PER', 'I-PER', 'O']\t['John', 'Smith', 'ran']\ns2\t[\"O\"]\t[\"hi\"]\ns3\tO O\tgo home\n")
    rows = Sequence().read(seq, DEFS["ner"])
    assert rows[0].label == [1, 2, 0] and rows[0].words == ["John", "Smith", "ran"] and rows[2].label == [0, 0]
    bad = write(tmp_path / "bad.tsv", "s1\t['B-PER']\t['__import__(\"os\")', 'x']\n")
    with pytest.raises(DataError, match="1 labels for 2 words"):
        Sequence().read(bad, DEFS["ner"])


def test_over_length_pairs_are_truncated_longest_first_not_dropped(tmp_path, tiny_tokenizer):
    long = " ".join(["word"] * 200)
    path = write(tmp_path / "rte_train.tsv", f"1\tentailment\t{long}\tshort hypothesis\n")
    feats = encode_file(path, DEFS["rte"], PremiseAndOneHypothesis(), tiny_tokenizer, max_len=32)
    assert len(feats) == 1 and len(feats[0]["input_ids"]) == 32
    assert feats[0]["segment_ids"].count(1) == 2  # the short hypothesis survives intact


def test_sequence_labels_only_on_first_subtokens(tmp_path, tiny_tokenizer):
    path = write(tmp_path / "ner.tsv", "s1\tB-PER O\tunaffable John\n")
    feat = encode_file(path, DEFS["ner"], Sequence(), tiny_tokenizer, 32)[0]
    pieces = tiny_tokenizer.convert_ids_to_tokens(feat["input_ids"])
    assert len(pieces) > 4  # 'unaffable' splits into several word pieces
    labelled = [(p, t) for p, t in zip(pieces, feat["label"]) if t != IGNORE_INDEX]
    assert [t for _, t in labelled] == [1, 0] and labelled[1][0] == "john"


def test_feature_cache_is_keyed_by_content_and_length(tmp_path, tiny_tokenizer):
    path = write(tmp_path / "sst_train.tsv", "1\t1\tgood movie\n")
    cache = tmp_path / "cache"
    encode_file(path, DEFS["sst"], PremiseOnly(), tiny_tokenizer, 32, cache)
    encode_file(path, DEFS["sst"], PremiseOnly(), tiny_tokenizer, 32, cache)
    assert len(list(cache.glob("*.jsonl"))) == 1
    encode_file(path, DEFS["sst"], PremiseOnly(), tiny_tokenizer, 16, cache)
    write(path, "1\t0\tbad movie\n")
    feats = encode_file(path, DEFS["sst"], PremiseOnly(), tiny_tokenizer, 32, cache)
    assert len(list(cache.glob("*.jsonl"))) == 3 and feats[0]["label"] == 0


def test_collate_pads_per_batch_and_flattens_candidates():
    feats = [{"uid": "a", "label": 1, "input_ids": [1, 2, 3], "token_type_ids": [0, 0, 0], "segment_ids": [-1, 0, -1]},
             {"uid": "b", "label": 0, "input_ids": [1, 2], "token_type_ids": [0, 0], "segment_ids": [-1, -1]}]
    batch = collate(feats, "Classification", pad_id=0)
    assert batch["input_ids"].tolist() == [[1, 2, 3], [1, 2, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    ranking = [{"uid": "q", "label": 0, "candidates": feats}, {"uid": "r", "label": 0, "candidates": feats[:1]}]
    batch = collate(ranking, "Ranking")
    assert batch["input_ids"].shape == (4, 3)
    assert batch["candidate_mask"].tolist() == [[True, True], [True, False]]
    assert batch["labels"].dtype == torch.long
