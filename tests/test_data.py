"""Canonical formats, tokenization, the feature cache and batching."""
import pytest
import torch

from mtdnn_core.config import complete_task_def, parse_task_defs
from mtdnn_core.data.features import Selection, encode_file
from mtdnn_core.data.formats import IGNORE_INDEX, PremiseAndMultiHypothesis, PremiseAndOneHypothesis, PremiseOnly, Sequence
from mtdnn_core.errors import DataError
from mtdnn_core.plugins import PluginHost


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


TYPES = PluginHost(strict=True).registries.task_types
DEFS = {name: complete_task_def(d, TYPES) for name, d in parse_task_defs(
    "rte:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n  labels: [not_entailment, entailment]\n"
    "sst:\n  data_format: PremiseOnly\n  task_type: Classification\n"
    "stsb:\n  data_format: PremiseAndOneHypothesis\n  task_type: Regression\n"
    "qnli:\n  data_format: PremiseAndMultiHypothesis\n  task_type: Ranking\n"
    "ner:\n  data_format: Sequence\n  task_type: SequenceLabeling\n  labels: [O, B-PER, I-PER]\n"
).items()}


def kind(name):
    return TYPES.get(DEFS[name].task_type).factory


def read(fmt, path, name):
    return fmt.read(path, DEFS[name], kind(name))


def encode(path, name, fmt, tokenizer, max_len, cache=None, **kwargs):
    return encode_file(path, DEFS[name], kind(name), fmt, tokenizer, max_len, cache, **kwargs)


def test_pair_reader_maps_labels_and_keeps_quotes(tmp_path):
    path = write(tmp_path / "rte_dev.tsv", '1\tentailment\tHe said "hi.\tA man spoke.\n2\t0\tx\ty\n')
    rows = read(PremiseAndOneHypothesis(), path, "rte")
    assert [r.label for r in rows] == [1, 0]
    assert rows[0].texts == ['He said "hi.', "A man spoke."]
    test = write(tmp_path / "rte_test.tsv", "1\t\tno label\there\n2\t\tnone\teither\n")
    assert [r.label for r in read(PremiseAndOneHypothesis(), test, "rte")] == [None, None]  # an unlabeled test set


def test_unknown_label_names_row_and_known_labels(tmp_path):
    path = write(tmp_path / "rte_train.tsv", "1\tentailment\ta\tb\n2\tneutral\ta\tb\n")
    with pytest.raises(DataError, match=r"rte_train.tsv:2: column 'label': unknown label 'neutral' .* known labels: not_entailment, entailment"):
        read(PremiseAndOneHypothesis(), path, "rte")


def test_wrong_column_count_names_file_row_and_columns(tmp_path):
    path = write(tmp_path / "sst_train.tsv", "1\t1\tgood\n2\t0\n")
    with pytest.raises(DataError, match=r"sst_train.tsv:2: 2 column\(s\), expected 3 \(uid, label, premise\)"):
        read(PremiseOnly(), path, "sst")


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read(PremiseOnly(), tmp_path / "nope.tsv", "sst")
    with pytest.raises(DataError, match="no rows"):
        read(PremiseOnly(), write(tmp_path / "empty.tsv", "\n"), "sst")
    with pytest.raises(DataError, match="is not a number"):
        read(PremiseAndOneHypothesis(), write(tmp_path / "s.tsv", "1\thigh\ta\tb\n"), "stsb")
    with pytest.raises(DataError, match="outside 0..1"):
        read(PremiseOnly(), write(tmp_path / "c.tsv", "1\t2\ta\n"), "sst")


def test_multi_hypothesis_and_sequence_formats(tmp_path):
    path = write(tmp_path / "q.tsv", "q1\tc1,c2,c3\tc2\tWho?\tA.\tB.\tC.\nq2\ta,b\t0\tWhat?\tX.\tY.\n")
    rows = read(PremiseAndMultiHypothesis(), path, "qnli")
    assert [r.label for r in rows] == [1, 0] and rows[0].texts == ["Who?", "A.", "B.", "C."]
    seq = write(tmp_path / "ner.tsv", "s1\t['B-PER', 'I-PER', 'O']\t['John', 'Smith', 'ran']\ns2\t[\"O\"]\t[\"hi\"]\ns3\tO O\tgo home\n")
    rows = read(Sequence(), seq, "ner")
    assert rows[0].label == [1, 2, 0] and rows[0].words == ["John", "Smith", "ran"] and rows[2].label == [0, 0]
    bad = write(tmp_path / "bad.tsv", "s1\t['B-PER']\t['__import__(\"os\")', 'x']\n")
    with pytest.raises(DataError, match="1 labels for 2 words"):
        read(Sequence(), bad, "ner")


def test_over_length_pairs_are_truncated_longest_first_not_dropped(tmp_path, tiny_tokenizer):
    long = " ".join(["word"] * 200)
    path = write(tmp_path / "rte_train.tsv", f"1\tentailment\t{long}\tshort hypothesis\n")
    feats = encode(path, "rte", PremiseAndOneHypothesis(), tiny_tokenizer, max_len=32)
    assert len(feats) == 1 and len(feats[0]["input_ids"]) == 32
    assert list(feats[0]["segment_ids"]).count(1) == 2  # the short hypothesis survives intact


def test_sequence_labels_only_on_first_subtokens(tmp_path, tiny_tokenizer):
    path = write(tmp_path / "ner.tsv", "s1\tB-PER O\tunaffable John\n")
    feat = encode(path, "ner", Sequence(), tiny_tokenizer, 32)[0]
    pieces = tiny_tokenizer.convert_ids_to_tokens(feat["input_ids"])
    assert len(pieces) > 4  # 'unaffable' splits into several word pieces
    labelled = [(p, t) for p, t in zip(pieces, feat["label"]) if t != IGNORE_INDEX]
    assert [t for _, t in labelled] == [1, 0] and labelled[1][0] == "john"


def test_feature_cache_is_keyed_by_content_and_length(tmp_path, tiny_tokenizer):
    path = write(tmp_path / "sst_train.tsv", "1\t1\tgood movie\n")
    cache = tmp_path / "cache"
    encode(path, "sst", PremiseOnly(), tiny_tokenizer, 32, cache)
    encode(path, "sst", PremiseOnly(), tiny_tokenizer, 32, cache)
    assert len(list(cache.iterdir())) == 1
    encode(path, "sst", PremiseOnly(), tiny_tokenizer, 16, cache)
    write(path, "1\t0\tbad movie\n")
    feats = encode(path, "sst", PremiseOnly(), tiny_tokenizer, 32, cache)
    assert len(list(cache.iterdir())) == 3 and feats[0]["label"] == 0


def test_cache_changes_with_the_reader_plugin_version_and_code(tmp_path, tiny_tokenizer):
    path = write(tmp_path / "sst_train.tsv", "1\t1\tgood movie\n")
    cache = tmp_path / "cache"
    encode(path, "sst", PremiseOnly(), tiny_tokenizer, 32, cache, format_origin="readers 1.0")
    encode(path, "sst", PremiseOnly(), tiny_tokenizer, 32, cache, format_origin="readers 1.0")
    assert len(list(cache.iterdir())) == 1
    encode(path, "sst", PremiseOnly(), tiny_tokenizer, 32, cache, format_origin="readers 1.1")
    assert len(list(cache.iterdir())) == 2

    class Lowercased(PremiseOnly):  # same name, other code: a changed reader
        def parse_row(self, row, task, task_type, where):
            example = super().parse_row(row, task, task_type, where)
            example.texts = [t.lower() for t in example.texts]
            return example

    encode(path, "sst", Lowercased(), tiny_tokenizer, 32, cache, format_origin="readers 1.1")
    assert len(list(cache.iterdir())) == 3


def test_caps_and_fractions_apply_before_tokenization(tmp_path, tiny_tokenizer):
    rows = "".join(f"{i}\t1\tsentence number {i}\n" for i in range(500))
    path = write(tmp_path / "sst_train.tsv", rows)
    calls = []

    class Counting(PremiseOnly):
        def encode(self, examples, tokenizer, max_len, task):
            calls.append(len(examples))
            return super().encode(examples, tokenizer, max_len, task)

    store = encode(path, "sst", Counting(), tiny_tokenizer, 32, tmp_path / "c", selection=Selection(limit=7))
    assert calls == [7] and [store[i]["uid"] for i in range(7)] == [str(i) for i in range(7)]
    calls.clear()
    store = encode(path, "sst", Counting(), tiny_tokenizer, 32, tmp_path / "c", selection=Selection(fraction=0.01))
    assert calls == [5] and len(store) == 5  # ceil(1% of 500)


def test_collate_pads_per_batch_and_flattens_candidates():
    feats = [{"uid": "a", "label": 1, "input_ids": [1, 2, 3], "token_type_ids": [0, 0, 0], "segment_ids": [-1, 0, -1]},
             {"uid": "b", "label": 0, "input_ids": [1, 2], "token_type_ids": [0, 0], "segment_ids": [-1, -1]}]
    batch = kind("sst").collate(feats, pad_id=0)
    assert batch["input_ids"].tolist() == [[1, 2, 3], [1, 2, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert kind("stsb").collate([{**feats[0], "label": 2.5}], 0)["labels"].dtype == torch.float

    def nested(rows):
        return {k: [r[k] for r in rows] for k in ("input_ids", "token_type_ids", "segment_ids")}

    ranking = [{"uid": "q", "label": 0, **nested(feats)}, {"uid": "r", "label": 0, **nested(feats[:1])}]
    batch = kind("qnli").collate(ranking, 0)
    assert batch["input_ids"].shape == (4, 3)
    assert batch["candidate_mask"].tolist() == [[True, True], [True, False]]
    assert batch["labels"].dtype == torch.long


def test_backend_tokenization_equals_the_transformers_call(glue_dir, tiny_tokenizer):
    import csv

    from mtdnn_core.data.formats import _encode_with_backend

    with open(glue_dir / "RTE" / "dev.tsv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    first = [r[1] for r in rows] + [" ".join(["wörd"] * 300)]
    second = [r[2] for r in rows] + ["short"]
    for max_len, pair in ((128, True), (24, True), (24, False)):
        ours = _encode_with_backend(tiny_tokenizer.backend_tokenizer, first, second if pair else None, max_len)
        enc = tiny_tokenizer(first, second if pair else None, truncation="longest_first" if pair else True,
                             max_length=max_len, return_token_type_ids=True)
        theirs = [{"input_ids": ids, "token_type_ids": enc["token_type_ids"][i],
                   "segment_ids": [-1 if s is None else s for s in enc.sequence_ids(i)]} for i, ids in enumerate(enc["input_ids"])]
        assert ours == theirs
