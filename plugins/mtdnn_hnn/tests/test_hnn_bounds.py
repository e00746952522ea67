"""Counts mean what they say, and the WSC XML reader is bounded: no entity is expanded or
dropped, and a file's text is assembled in linear time."""
import time

import pytest
from click.testing import CliRunner

from mtdnn_core.api import DataError, cli as main
from mtdnn_core.testing import real_data_dir
from mtdnn_hnn.readers import read_wsc_xml

HNN = real_data_dir() / "hnn"
SCHEMA = ("<schema><text><txt1>{txt1}</txt1><pron>he</pron><txt2>left.</txt2></text>"
          "<answers><answer>{answer}</answer><answer>Ann</answer></answers><correctAnswer>A</correctAnswer></schema>")


def xml(tmp_path, body, doctype=""):
    path = tmp_path / "wsc.xml"
    path.write_text(f'<?xml version="1.0" encoding="ISO-8859-1"?>\n{doctype}\n<collection>\n{body}\n</collection>\n')
    return path


def fails(args, *expected):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), repr(result.exception)
    for piece in expected:
        assert piece in result.output, result.output
    return result.output


@pytest.mark.parametrize("option, value", [("--max-samples", "-1"), ("--max-samples", "0"), ("--batch-size", "0"),
                                           ("--max-seq-len", "0")])
@pytest.mark.real_data("hnn")
def test_evaluate_counts_must_be_positive(tmp_path, option, value):
    out = tmp_path / "eval"
    fails(["hnn", "evaluate", "--encoder", "tiny-random-bert", "--data-dir", HNN, "--tasks", "wsc273",
           "--output-dir", out, option, value], option, value)
    assert not out.exists()


def test_show_prints_exactly_the_rows_asked_for(tmp_path):
    path = xml(tmp_path, "\n".join(SCHEMA.format(txt1=f"Tom{i} met Ann", answer=f"Tom{i}") for i in range(3)))
    shown = CliRunner().invoke(main, ["hnn", "show", str(path), "--rows", "2"])
    assert shown.exit_code == 0, shown.output
    assert "3 item(s)" in shown.output and "Tom0 met Ann [he] left." in shown.output and "Tom1 met" in shown.output
    assert "Tom2 met" not in shown.output
    count_only = CliRunner().invoke(main, ["hnn", "show", str(path), "--rows", "0"])
    assert count_only.exit_code == 0 and "3 item(s)" in count_only.output and "Tom0" not in count_only.output
    fails(["hnn", "show", path, "--rows", "-1"], "--rows", "-1")


def test_predefined_entities_and_character_references_stay_in_the_text(tmp_path):
    path = xml(tmp_path, SCHEMA.format(txt1="Tom &amp; Ann met Caf&#233; &lt;owners&gt;", answer="Tom &quot;T&quot;"))
    [schema] = read_wsc_xml(path)
    assert schema.sentence == 'Tom & Ann met Café <owners> he left.'
    assert schema.candidates == ['Tom "T"', "Ann"]


def test_an_undefined_entity_is_an_error_not_dropped(tmp_path):
    path = xml(tmp_path, SCHEMA.format(txt1="Tom &who; met Ann", answer="Tom"), '<!DOCTYPE collection SYSTEM "wsc.dtd">')
    output = fails(["hnn", "show", path], f"{path}:4:", "'&who;'")
    assert "Tom  met" not in output


def test_entity_declarations_are_refused_before_any_expansion(tmp_path):
    laughs = ['<!ENTITY a0 "lol">'] + [f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)]
    path = xml(tmp_path, SCHEMA.format(txt1="&a9;", answer="Tom"), "<!DOCTYPE collection [\n" + "\n".join(laughs) + "\n]>")
    assert path.stat().st_size < 1500
    began = time.perf_counter()
    fails(["hnn", "show", path], f"{path}:3:", "declares the XML entity 'a0'")
    assert time.perf_counter() - began < 5
    with pytest.raises(DataError, match="parameter entity 'p'"):
        read_wsc_xml(xml(tmp_path, SCHEMA.format(txt1="x", answer="Tom"), '<!DOCTYPE collection [<!ENTITY % p "x">]>'))


def test_many_text_pieces_are_joined_in_linear_time(tmp_path):
    pieces = "a&amp;" * 200_000  # 400,000 pieces of character data in one element
    path = xml(tmp_path, SCHEMA.format(txt1=pieces, answer="Tom"))
    began = time.perf_counter()
    [schema] = read_wsc_xml(path)
    assert time.perf_counter() - began < 10
    assert schema.sentence.startswith("a&a&a&") and schema.sentence.count("&") == 200_000
