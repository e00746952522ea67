"""Readers on every shipped file, checked against published sizes, the GLUE files and each
other; candidate and pronoun spans in the encoded sequences; bad input."""
import csv
from collections import Counter

import pytest

from mtdnn_core.api import DataError
from mtdnn_core.testing import real_data_dir
from mtdnn_hnn.encoding import candidate_pair, encode_schema, masked_candidate
from mtdnn_hnn.readers import read_schemas
from mtdnn_hnn.tasks import locate_wsc273

HNN = real_data_dir() / "hnn"
GLUE = HNN.parent / "glue"

# file -> (items, answer/label counts) as published (WNLI test is unlabeled)
COUNTS = {
    "DPRD/train_annotated.tsv": (1322, {0: 661, 1: 661}),
    "DPRD/test_annotated.tsv": (564, {0: 282, 1: 282}),
    "PDP/pdp60.tsv": (60, None),
    "WSC273/associative.tsv": (37, None),
    "WSC273/non_associative.tsv": (236, None),
    "WSC273/wsc273.tsv": (285, None),
    "WSC273/switched.tsv": (131, None),
    "WSC273/unswitched.tsv": (131, None),
    "WSC273/WSCollection.xml": (285, None),
    "WNLI/train_annotated.tsv": (635, {0: 323, 1: 312}),
    "WNLI/dev_annotated.tsv": (71, {0: 40, 1: 31}),
    "WNLI/test_annotated.tsv": (146, {None: 146}),
}


def tsv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]


@pytest.mark.real_data("hnn")
@pytest.mark.parametrize("name", sorted(COUNTS))
def test_every_file_reads_completely(name):
    schemas = read_schemas(HNN / name)
    size, labels = COUNTS[name]
    assert len(schemas) == size
    if labels:
        assert dict(Counter(s.label for s in schemas)) == labels
    for s in schemas:
        assert s.sentence[s.pronoun_start : s.pronoun_end] == s.pronoun and len(s.candidates) >= 2


@pytest.mark.real_data("hnn")
def test_split_sentence_answers_are_the_selected_column():
    rows = tsv(HNN / "PDP/pdp60.tsv")
    schemas = read_schemas(HNN / "PDP/pdp60.tsv")
    assert [s.candidates[s.label] for s in schemas] == [r[3].split(",")[int(r[4])].strip() for r in rows]
    assert Counter(len(s.candidates) for s in schemas) == {2: 45, 3: 12, 4: 1, 5: 2}


@pytest.mark.real_data("hnn")
def test_xml_read_as_utf8_and_agrees_with_the_tsv_on_every_schema():
    xml, table = read_schemas(HNN / "WSC273/WSCollection.xml"), read_schemas(HNN / "WSC273/wsc273.tsv")
    for a, b in zip(xml, table):
        assert a.pronoun.lower() == b.pronoun.lower()
        assert a.candidates[a.label].lower() == b.candidates[b.label].lower()
    # the file declares ISO-8859-1, but its no-break spaces are UTF-8 (C2 A0): read as Latin-1
    # they would turn into "\u00c2\xa0"; read right, each is whitespace like any other
    assert b"\xc2\xa0" in (HNN / "WSC273/WSCollection.xml").read_bytes()
    assert not any("\u00c2" in s.sentence or "\u00c2" in "".join(s.candidates) for s in xml)
    assert " ".join(xml[-1].sentence.split()) == " ".join(table[-1].sentence.split())


@pytest.mark.real_data("hnn")
def test_wsc273_is_associative_then_non_associative(tmp_path):
    path = locate_wsc273(HNN, tmp_path)["test"]
    schemas = read_schemas(path)
    parts = tsv(HNN / "WSC273/associative.tsv") + tsv(HNN / "WSC273/non_associative.tsv")
    assert len(schemas) == 273
    assert [s.candidates[s.label] for s in schemas] == [r[3].split(",")[int(r[4])] for r in parts]
    assert locate_wsc273(HNN / "WSC273", tmp_path)["test"] == path  # a task's own directory works too


@pytest.mark.real_data("hnn")
def test_dprd_answer_is_the_coref_column():
    rows, schemas = tsv(HNN / "DPRD/test_annotated.tsv"), read_schemas(HNN / "DPRD/test_annotated.tsv")
    assert [s.candidates[s.label].lower() for s in schemas] == [r[3].strip().lower() for r in rows]
    assert [s.pronoun_start for s in schemas] == [int(r[1]) for r in rows]


@pytest.mark.real_data("glue")
@pytest.mark.real_data("hnn")
def test_wnli_ids_premises_and_labels_are_glue_rows():
    for split in ("dev", "test"):
        glue = tsv(GLUE / "WNLI" / f"{split}.tsv")
        for schema in read_schemas(HNN / f"WNLI/{split}_annotated.tsv"):
            row = glue[int(schema.uid)]
            assert row[1] == schema.sentence
            if split == "dev":
                assert int(row[3]) == schema.label
            assert schema.hypothesis == 0  # the hypothesis's noun phrase comes first


@pytest.mark.real_data("hnn")
def test_wnli_targets_only_claim_what_the_label_says():
    schemas = read_schemas(HNN / "WNLI/dev_annotated.tsv")
    true = next(s for s in schemas if s.label == 1)
    false = next(s for s in schemas if s.label == 0)
    assert true.targets() == [1] + [0] * (len(true.candidates) - 1)
    assert false.targets() == [0] + [-1] * (len(false.candidates) - 1)


@pytest.mark.real_data("hnn")
@pytest.mark.parametrize("name", ["WSC273/wsc273.tsv", "PDP/pdp60.tsv", "DPRD/test_annotated.tsv", "WNLI/dev_annotated.tsv"])
def test_every_candidate_and_pronoun_span_is_found(name, tokenizer):
    """Masked positions hold [MASK] and their targets are the candidate's own tokens; the
    similarity sequence's spans are the pronoun's and the candidate's tokens."""
    tokens = tokenizer.convert_ids_to_tokens
    for schema in read_schemas(HNN / name):
        feature = encode_schema(schema, tokenizer, 128)
        pronoun = tokenizer.tokenize(schema.pronoun)
        for c, candidate in enumerate(schema.candidates):
            alone = tokenizer.tokenize(candidate)
            assert tokens(feature["lm_targets"][c]) == alone
            ids = feature["lm_input_ids"][c]
            assert [ids[p] for p in feature["lm_positions"][c]] == [tokenizer.mask_token_id] * len(alone)
            sim = tokens(feature["sim_input_ids"][c])
            assert [sim[p] for p in feature["candidate_positions"][c]] == alone
            assert [sim[p] for p in feature["pronoun_positions"][c]] == pronoun


@pytest.mark.real_data("hnn")
def test_long_sentences_are_cut_around_the_pronoun(tokenizer):
    schema = read_schemas(HNN / "PDP/pdp60.tsv")[0]
    start, end = schema.pronoun_start, schema.pronoun_end
    lm = masked_candidate(tokenizer, schema.sentence, start, end, "the man", 20, "x")
    pair = candidate_pair(tokenizer, schema.sentence, start, end, "the man", 20, "x")
    assert len(lm["input_ids"]) <= 20 and len(pair["input_ids"]) <= 20
    assert tokenizer.convert_ids_to_tokens(lm["targets"]) == ["the", "man"]
    assert tokenizer.convert_ids_to_tokens([pair["input_ids"][p] for p in pair["pronoun_positions"]]) == ["he"]
    with pytest.raises(DataError, match="does not fit in 3 tokens"):  # [CLS] the man [SEP] is 4
        masked_candidate(tokenizer, schema.sentence, start, end, "the man", 3, "x")


def write(path, *lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


DPRD_HEADER = "sentence\tpronoun_idx\tpronoun\tcoref\tcandidates"
SPLIT_HEADER = "left\tpron\tright\tcandidates\tselected"


@pytest.mark.parametrize("lines, message", [
    ([DPRD_HEADER, "The bee landed on the flower because it had pollen.\t30\tit\tthe flower\tThe bee,the flower"],
     r"bad.tsv:2: pronoun 'it' is not at character 30 of the sentence \(found 'ec'\)"),
    ([DPRD_HEADER, "The bee landed on the flower because it had pollen.\t37\tit\tthe pollen\tThe bee,the flower"],
     r"bad.tsv:2: column 'coref': 'the pollen' is not one of the candidates \(The bee, the flower\)"),
    ([SPLIT_HEADER, "The bee landed on the flower because\tit\thad pollen.\tThe bee\t0"],
     r"bad.tsv:2: the schema has one candidate \(The bee\); a choice needs at least two"),
    ([SPLIT_HEADER, "The bee landed on the flower because\tit\thad pollen.\tThe bee,the flower\t2"],
     r"bad.tsv:2: answer index 2 but the row has 2 candidates"),
    ([SPLIT_HEADER, "The bee landed on the flower because\tit\thad pollen.\tThe bee,the bee\t0"],
     r"bad.tsv:2: candidate\(s\) \['the bee'\] listed twice"),
    ([SPLIT_HEADER, "The bee landed\tit\thad pollen.\tThe bee,the flower"], r"bad.tsv:2: 4 column\(s\), expected 5"),
    (["left\tpronoun\tright", "a\tb\tc"], r"bad.tsv:1: unknown header 'left pronoun right'; known layouts: left pron"),
])
def test_bad_rows_name_file_and_line(tmp_path, lines, message):
    with pytest.raises(DataError, match=message):
        read_schemas(write(tmp_path / "bad.tsv", *lines))


def test_bad_xml_names_file_and_line(tmp_path):
    schema = ("<collection>\n<schema>\n<text><txt1>Joan thanked Susan because</txt1><pron>she</pron>"
              "<txt2>had helped.</txt2></text>\n<answers><answer>Joan</answer><answer>Susan</answer></answers>\n"
              "<correctAnswer> {} </correctAnswer>\n</schema>\n</collection>\n")
    assert read_schemas(write(tmp_path / "ok.xml", schema.format("B.")))[0].label == 1
    with pytest.raises(DataError, match=r"bad.xml:2: <correctAnswer> 'C' is not a letter naming one of its 2 answers"):
        read_schemas(write(tmp_path / "bad.xml", schema.format("C")))
    with pytest.raises(DataError, match=r"broken.xml:3: not well-formed XML"):
        read_schemas(write(tmp_path / "broken.xml", "<collection>\n<schema>\n</collection>"))
