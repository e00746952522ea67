"""Task-definition files written for the original MT-DNN toolkit load unchanged.

``tests/original_task_defs/`` holds one fixture per task-definition file of the original
repository (its ``experiments/`` folder, master and the v0.x releases), each using every key,
name and shape of the file it mirrors. A task whose type or format no installed plugin provides
is listed, not fatal: the file's other tasks load and train. The files whose tasks need the SQuAD
or NER plugin are checked with their plugin in that plugin's tests.
"""
import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtdnn_core.cli import main
from mtdnn_core.config import check_task_defs, complete_task_def, load_task_defs, parse_task_defs, unavailable_tasks
from mtdnn_core.errors import ConfigError
from mtdnn_core.plugins import PluginHost

FIXTURES = Path(__file__).parent / "original_task_defs"
ORIGINAL_FILES = [  # experiments/<dir>/<file> of the original repository
    "ads/ads_task_def.yml", "domain_adaptation/domain_adaptation_def.yml", "glue/anli_task_def.yml",
    "glue/glue_task_def.yml", "glue/glue_task_def_robert.yml", "glue/glue_task_gen_def.yml", "mlm/mlm.yml",
    "ner/ner_task_def.yml", "ner/ner_task_def_roberta.yml", "squad/squad_task_def.yml",
    "superglue/superglue_task_def.yml", "xnli/xnli_task_def.yml",
]
# tasks whose type the original has but no plugin of this project provides
NOT_PROVIDED = {"glue_task_gen_def.yml": {"mnli", "stsb", "cola"}, "superglue_task_def.yml": {"record"}}
# files whose tasks a first-party plugin provides (tested in plugins/mtdnn_<plugin>/tests)
NEED_A_PLUGIN = {"squad_task_def.yml": "squad", "ner_task_def.yml": "ner", "ner_task_def_roberta.yml": "ner"}
LOADABLE = sorted(Path(f).name for f in ORIGINAL_FILES
                  if not f.endswith("anli_task_def.yml") and Path(f).name not in NEED_A_PLUGIN)
TINY = ["--encoder", "tiny-random-bert", "--batch-size", "8", "--max-seq-len", "32", "--lr", "1e-3",
        "--num-threads", "2", "--device", "cpu", "--no-progress"]


@pytest.fixture(scope="module")
def registries():
    return PluginHost([]).registries  # the core's components only


def test_every_original_file_has_a_fixture_that_says_which_file_it_mirrors():
    for original in ORIGINAL_FILES:
        fixture = FIXTURES / Path(original).name
        assert fixture.is_file(), original
        assert f"experiments/{original}" in fixture.read_text(), fixture


@pytest.mark.parametrize("name", LOADABLE)
def test_each_original_file_loads_and_its_provided_tasks_check_clean(name, registries):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ner_task_def.yml repeats a key on purpose (tested below)
        defs = load_task_defs(FIXTURES / name)
    missing = unavailable_tasks(defs, registries)
    assert set(missing) == NOT_PROVIDED.get(name, set())
    usable = {n: d for n, d in defs.items() if n not in missing}
    assert usable or name in NOT_PROVIDED
    assert check_task_defs(usable, registries) == []


def test_anli_files_inconsistent_n_class_stays_an_error():
    with pytest.raises(ConfigError) as err:
        load_task_defs(FIXTURES / "anli_task_def.yml")
    assert err.value.problems == [f"{FIXTURES / 'anli_task_def.yml'}:22: fever: n_class is 2 but 3 labels are listed; leave n_class out "
                                  "(with labels it is their number; a head that outputs another size, such as K-1 "
                                  "thresholds, computes it from n_class)"]


def test_original_spellings_resolve_to_this_projects_components(registries):
    expected = {  # original name -> (kind attribute, canonical name here); the plugins test their own
        "SeqenceLabeling": ("task_types", "sequence_labeling"), "MaskLM": ("task_types", "masked_lm"),
        "Seqence": ("data_formats", "Sequence"), "MlmCriterion": ("losses", "ce"), "SeqCeCriterion": ("losses", "seq_ce"),
        "NERACC": ("metrics", "token_accuracy"),
    }
    for original, (kind, canonical) in expected.items():
        assert getattr(registries, kind).get(original).name == canonical, original


def test_the_mlm_file_completes_to_the_canonical_types(registries):
    mlm = complete_task_def(load_task_defs(FIXTURES / "mlm.yml")["mlm"], registries.task_types)
    assert (mlm.task_type, mlm.loss, mlm.data_format) == ("masked_lm", "MlmCriterion", "MLM")


def test_a_key_repeated_with_the_same_value_is_a_warning_naming_both_lines():
    path = FIXTURES / "ner_task_def.yml"
    lines = [i + 1 for i, line in enumerate(path.read_text().splitlines()) if line == "  loss: SeqCeCriterion"]
    first, second = lines[0], lines[1]  # both in task 'ner'
    with pytest.warns(UserWarning, match=f"ner.loss: lines {first} and {second} give the same value"):
        defs = load_task_defs(path)
    assert defs["ner"].loss == "SeqCeCriterion" and defs["ner"].data_format == "Seqence"


@pytest.mark.parametrize("first,second", [("SeqCeCriterion", "CeCriterion"), ("false", "0"), ("1", "1.0")])
def test_a_key_repeated_with_another_value_stays_an_error(tmp_path, first, second):
    path = tmp_path / "t.yml"
    path.write_text(f"t:\n  task_type: Classification\n  data_format: PremiseOnly\n  x: {first}\n  x: {second}\n")
    with pytest.raises(ConfigError, match=r"t.yml:5: t.x: duplicate key \(first at line 4\) with a different value"):
        load_task_defs(path)


def _problems(registries, body):
    defs = parse_task_defs("t:\n" + body, "t.yml")
    return "\n".join(check_task_defs(defs, registries))


def test_did_you_mean_never_names_another_kind_of_thing(registries):
    text = _problems(registries, "  task_type: Classification\n  data_format: SeqenceLabeling\n")
    assert "'SeqenceLabeling' is a task type, not a data format" in text and "did you mean" not in text
    text = _problems(registries, "  task_type: Seqence\n  data_format: PremiseOnly\n")
    assert "'Seqence' is a data format, not a task type" in text and "did you mean" not in text
    text = _problems(registries, "  task_type: Classification\n  data_format: PremiseOnly\n  loss: ACC\n")
    assert "'ACC' is a metric, not a loss" in text and "did you mean" not in text
    # a real name that is only not provided gets no look-alike suggestion
    text = _problems(registries, "  task_type: SeqenceGeneration\n  data_format: PremiseOnly\n")
    assert "the original toolkit's task type 'SeqenceGeneration' is provided by no installed plugin" in text
    assert "did you mean" not in text
    # a typo still gets one, of the same kind
    text = _problems(registries, "  task_type: Clasification\n  data_format: PremiseOnly\n")
    assert "did you mean 'Classification'?" in text


def test_encoder_type_is_checked_against_the_originals_names(registries):
    assert _problems(registries, "  task_type: Classification\n  data_format: PremiseOnly\n  encoder_type: DEBERTA\n") == ""
    text = _problems(registries, "  task_type: Classification\n  data_format: PremiseOnly\n  encoder_type: ROBERTTA\n")
    assert "t.encoder_type: no encoder type 'ROBERTTA'; did you mean 'ROBERTA'?" in text


def test_validate_lists_unavailable_tasks_with_what_would_provide_them():
    runner = CliRunner()
    result = runner.invoke(main, ["validate", str(FIXTURES / "superglue_task_def.yml")])
    assert result.exit_code == 0, result.output
    assert "task 'record' cannot be trained with the loaded plugins: task type 'ClozeChoice'" in result.output
    assert "provided by no installed plugin" in result.output and "1 task(s) not available" in result.output


def _boolq_data(root: Path) -> Path:
    data = root / "data"
    data.mkdir()
    words = "yes no the sky is blue grass green water wet fire cold".split()
    rows = [f"b{i}\t{i % 2}\t{' '.join(words[i % 5: i % 5 + 4])}\t{words[i % 7]} ?" for i in range(24)]
    (data / "boolq_train.tsv").write_text("\n".join(rows[:16]) + "\n")
    (data / "boolq_dev.tsv").write_text("\n".join(rows[16:]) + "\n")
    return data


def test_the_other_tasks_of_a_partly_provided_file_train_and_the_unprovided_one_is_refused(tmp_path):
    data = _boolq_data(tmp_path)
    runner = CliRunner()
    common = ["train", "--task-def", str(FIXTURES / "superglue_task_def.yml"), "--data-dir", str(data),
              "--epochs", "1", *TINY]
    out = tmp_path / "run"
    result = runner.invoke(main, [*common, "--tasks", "boolq", "--output-dir", str(out)])
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "scores" / "boolq_dev.epoch0.json").read_text())
    assert scores["uids"] == [f"b{i}" for i in range(16, 24)]
    refused = tmp_path / "refused"
    result = runner.invoke(main, [*common, "--tasks", "boolq,record", "--output-dir", str(refused)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "record.task_type: no task type 'ClozeChoice' loaded" in result.output
    assert not refused.exists()
