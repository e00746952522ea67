"""``mtdnn glue convert --tasks`` accepts every task the plugin defines, qnnli (QNLI as ranking)
included, and writes its canonical files only."""
import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main
from mtdnn_glue.definitions import task_defs

QNLI_TRAIN = [
    ("index", "question", "sentence", "label"),
    ("0", "What is X?", "X is a letter.", "entailment"),
    ("1", "What is X?", "Y follows it.", "not_entailment"),
    ("2", "Who is Y?", "Nobody knows.", "not_entailment"),
    ("3", "Who is Y?", "Y is a letter too.", "entailment"),
    ("4", "Alone?", "Only one candidate.", "entailment"),
]


def _glue_dir(tmp_path):
    folder = tmp_path / "glue" / "QNLI"
    folder.mkdir(parents=True)
    (folder / "train.tsv").write_text("".join("\t".join(row) + "\n" for row in QNLI_TRAIN), encoding="utf-8")
    return tmp_path / "glue"


def test_qnnli_converts_to_ranking_samples(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["glue", "convert", str(_glue_dir(tmp_path)), str(out), "--tasks", "qnnli"])
    assert result.exit_code == 0, result.output
    # two questions with two candidates and one entailment each; "Alone?" has too few candidates
    assert (out / "qnnli_train.tsv").read_text(encoding="utf-8") == (
        "q0\t0,1\t0\tWhat is X?\tX is a letter.\tY follows it.\n"
        "q1\t2,3\t1\tWho is Y?\tNobody knows.\tY is a letter too.\n")
    assert sorted(p.name for p in out.iterdir()) == ["qnnli_train.tsv"]  # no intermediate QNLI files


@pytest.mark.parametrize("task", sorted(task_defs()))
def test_every_task_of_the_plugin_is_accepted(tmp_path, task):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["glue", "convert", str(tmp_path / "empty"), str(tmp_path / "out"), "--tasks", task])
    assert result.exit_code == 0, result.output
    assert f"{task:<6} nothing found in {tmp_path / 'empty'}" in result.output


def test_an_unknown_task_is_refused_naming_the_option(tmp_path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["glue", "convert", str(tmp_path / "empty"), str(tmp_path / "out"), "--tasks", "rte,qnnlii"])
    assert result.exit_code == 2 and "--tasks" in result.output and "qnnlii" in result.output and "qnnli" in result.output
    assert not (tmp_path / "out").exists()
