"""Task definitions (original YAML format and native additions) and the training config."""
import pytest

from mtdnn_core.config import (TaskDef, build_train_config, check_task_defs, complete_task_def, load_task_defs, override_task,
                               parse_task_defs)
from mtdnn_core.errors import ConfigError
from mtdnn_core.testing import make_host

ORIGINAL = """\
cola:
  data_format: PremiseOnly
  dropout_p: 0.05
  enable_san: false
  metric_meta:
  - ACC
  - MCC
  loss: CeCriterion
  kd_loss: MseCriterion
  adv_loss: SymKlCriterion
  n_class: 2
  task_type: Classification
mnli:
  data_format: PremiseAndOneHypothesis
  enable_san: true
  labels:
  - contradiction
  - neutral
  - entailment
  split_names:
  - train
  - matched_dev
  - mismatched_dev
  task_type: Classification
stsb:
  data_format: PremiseAndOneHypothesis
  task_type: Regression
"""


def test_original_format_loads_unchanged_with_defaults():
    types = make_host().registries.task_types
    defs = {name: complete_task_def(d, types) for name, d in parse_task_defs(ORIGINAL).items()}
    assert defs["cola"].task_type == "classification" and defs["stsb"].task_type == "regression"
    assert defs["cola"].metric_meta == ["ACC", "MCC"] and defs["cola"].dropout_p == 0.05
    assert defs["cola"].head == "pooler"
    assert defs["mnli"].n_class == 3 and defs["mnli"].head == "san" and defs["mnli"].loss == "ce"
    assert defs["mnli"].label_to_id == {"contradiction": 0, "neutral": 1, "entailment": 2}
    assert defs["stsb"].n_class == 1 and defs["stsb"].loss == "mse" and defs["stsb"].metric_meta == ["pearson", "spearman"]
    assert check_task_defs(defs, make_host().registries) == []


def test_every_problem_is_reported_with_line_and_suggestion(tmp_path):
    path = tmp_path / "tasks.yml"
    path.write_text(
        "rte:\n  data_format: PremiseAndOneHypothesis\n  task_typ: Classification\n"
        "sts_b:\n  data_format: PremiseOnly\n  task_type: Regression\n"
        "qnli:\n  data_format: PremiseOnly\n  task_type: Clasification\n  labels: [a, b]\n  n_class: 3\n"
    )
    with pytest.raises(ConfigError) as err:
        load_task_defs(path)
    text = str(err.value)
    assert f"{path}:3: rte.task_typ: unknown key; did you mean 'task_type'?" in text
    assert f"{path}:4:" in text and "rename it to 'stsb'" in text
    assert f"{path}:7:" in text and "qnli" in text and "n_class is 3 but 2 labels" in text
    assert len(err.value.problems) == 4  # rte also lacks task_type


def test_task_types_are_checked_against_the_registry_with_did_you_mean():
    defs = parse_task_defs("qnli:\n  data_format: PremiseOnly\n  task_type: Clasification\n"
                           "span:\n  data_format: PremiseOnly\n  task_type: Span\n"
                           "seq:\n  data_format: Sequence\n  task_type: SeqenceLabeling\n  labels: [O]\n"
                           "rank:\n  data_format: PremiseOnly\n  task_type: Ranking\n")
    problems = check_task_defs(defs, make_host().registries, source="t.yml")
    assert "t.yml: qnli.task_type: no task type 'Clasification'; did you mean 'Classification'?" in problems[0]
    assert problems[1].startswith("t.yml: span.task_type: no task type 'Span'")
    assert "rank.data_format: task type ranking reads PremiseAndMultiHypothesis, not PremiseOnly" in problems[2]
    assert len(problems) == 3  # the original's misspelt SeqenceLabeling is an accepted alias


def test_unknown_component_names_get_did_you_mean():
    defs = parse_task_defs(
        "rte:\n  data_format: PremiseAndOneHypotesis\n  task_type: Classification\n  loss: CeCriterio\n"
        "  metric_meta: [ACC, F2]\n  head: sann\n  head_config: {turns: 0}\n"
    )
    problems = check_task_defs(defs, make_host().registries, source="t.yml")
    joined = "\n".join(problems)
    assert "did you mean 'PremiseAndOneHypothesis'" in joined
    assert "no loss 'CeCriterio'; did you mean 'CeCriterion'?" in joined
    assert "no metric 'F2'; did you mean 'F1'?" in joined
    assert "no head 'sann'; did you mean 'san'?" in joined and "installed:" in joined
    assert len(problems) == 4


def test_head_config_validated_against_the_heads_model():
    defs = parse_task_defs("rte:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n"
                           "  head: san\n  head_config: {turns: 0, turnz: 2}\n")
    problems = check_task_defs(defs, make_host().registries)
    assert any("rte.head_config.turns" in p for p in problems)
    assert any("rte.head_config.turnz: unknown parameter; did you mean 'turns'?" in p for p in problems)


def test_labels_and_n_class_must_agree():
    with pytest.raises(ConfigError, match="n_class is 3 but 2 labels"):
        parse_task_defs("rte:\n  data_format: PremiseOnly\n  task_type: Classification\n  labels: [a, b]\n  n_class: 3\n")


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("rte:\n  task_type: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yml:\d+: not valid YAML"):
        load_task_defs(path)


def test_train_config_rejects_unknown_keys_with_suggestion():
    with pytest.raises(ConfigError, match="batchsize: unknown key; did you mean 'batch_size'"):
        build_train_config({"tasks": ["rte"], "batchsize": 3})
    with pytest.raises(ConfigError, match="lr: Input should be greater than 0"):
        build_train_config({"tasks": ["rte"], "lr": -1})


def test_numbers_in_exponent_form_are_floats_as_in_yaml_1_2_and_python():
    import yaml

    from mtdnn_core.config import load_yaml

    # PyYAML (YAML 1.1) reads 1e-05 as a string: a regularizer's params would keep it as text
    assert yaml.safe_load("1e-05") == "1e-05"  # and PyYAML's own loader is left as it is
    assert yaml.safe_load("1.5e3") == "1.5e3"  # a dot and an unsigned exponent: a string too
    value = load_yaml("{noise_std: 1e-05, big: 1E5, plus: +2e+3, dotted: 1.5e-3, dot_unsigned: 1.5e3, upper: -2.0E5, "
                      "lead: .5e3, n: 10, f: 0.5, under: 1_0e2, text: 1e5x, ver: 1.2.3, e: e5, dot: '.'}", "--set")
    assert value == {"noise_std": 1e-05, "big": 100000.0, "plus": 2000.0, "dotted": 0.0015, "dot_unsigned": 1500.0,
                     "upper": -200000.0, "lead": 500.0, "n": 10, "f": 0.5, "under": 1000.0, "text": "1e5x", "ver": "1.2.3",
                     "e": "e5", "dot": "."}
    assert all(isinstance(value[k], float) for k in ("noise_std", "big", "plus", "dot_unsigned", "upper", "lead", "under"))


def test_a_key_glued_to_its_value_is_explained():
    # YAML reads {name:smart} as one key "name:smart" with no value
    with pytest.raises(ConfigError, match="YAML needs a space after a key's colon: write 'name: smart'"):
        build_train_config({"tasks": ["rte"], "regularizers": [{"name:smart": None}]})
    with pytest.raises(ConfigError, match=r"alpha:1e-3: unknown parameter; did you mean 'alpha'\? \(YAML needs a space"):
        make_host().registries.regularizers.validate_config("l2sp", {"alpha:1e-3": None})


def test_task_overrides_change_a_definition_and_recompute_its_head():
    from mtdnn_core.config import override_task

    rte = parse_task_defs("rte:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n  enable_san: true\n")["rte"]
    assert rte.head == "san"
    plain = complete_task_def(override_task(rte, {"enable_san": False, "dropout_p": 0.2}), make_host().registries.task_types)
    assert plain.head == "pooler" and plain.dropout_p == 0.2 and plain.loss == "ce"
    with pytest.raises(ConfigError, match="task_overrides.rte.dropout_p"):
        override_task(rte, {"dropout_p": 2})


class _DeclaresAField:
    """A plugin that adds the key ``probe_loss`` (a loss, default per task type) to task definitions."""

    from mtdnn_core.task_settings import TaskDefField

    FIELD = TaskDefField("probe_loss", type=str, names="losses", defaults={"regression": "mse"}, default="kl")

    @staticmethod
    def register_task_def_fields(registry):
        registry.add("probe_loss", _DeclaresAField.FIELD)


def _declaring_host():
    from mtdnn_core import hookimpl

    plugin = _DeclaresAField()
    plugin.register_task_def_fields = hookimpl(_DeclaresAField.register_task_def_fields)
    return make_host(plugin)


PROBE = "t:\n  data_format: PremiseOnly\n  task_type: Classification\n  labels: [a, b]\n"


def test_a_plugin_declared_key_loads_from_files_and_is_checked_against_the_loss_registry(tmp_path):
    host = _declaring_host()
    fields = host.registries.task_def_fields
    path = tmp_path / "t.yml"
    path.write_text(PROBE + "  probe_loss: SymKlCriterion\n")
    task = load_task_defs(path, fields)["t"]
    assert task.settings == {"probe_loss": "SymKlCriterion"}
    assert check_task_defs({"t": task}, host.registries) == []
    assert _DeclaresAField.FIELD.value(task) == "SymKlCriterion"
    # no value given: the plugin's default for the task type, not the core's
    plain = parse_task_defs(PROBE + "s:\n  data_format: PremiseOnly\n  task_type: Regression\n")
    assert _DeclaresAField.FIELD.value(plain["t"]) == "kl" and _DeclaresAField.FIELD.value(plain["s"]) == "mse"

    path.write_text(PROBE + "  probe_loss: symkl\n")
    problems = check_task_defs(load_task_defs(path, fields), host.registries, source=str(path))
    assert len(problems) == 1 and "t.probe_loss: no loss 'symkl'; did you mean 'sym_kl'?" in problems[0]
    path.write_text(PROBE + "  probe_loss: [mse]\n")
    problems = check_task_defs(load_task_defs(path, fields), host.registries)
    assert problems == ["t.probe_loss: Input should be a valid string"]


def test_unknown_keys_are_refused_with_did_you_mean_over_core_and_declared_keys(tmp_path):
    host = _declaring_host()
    path = tmp_path / "t.yml"
    path.write_text(PROBE + "  probe_los: mse\n")
    with pytest.raises(ConfigError) as err:
        load_task_defs(path, host.registries.task_def_fields)
    assert err.value.problems == [f"{path}:5: t.probe_los: unknown key; did you mean 'probe_loss'?"]
    # read without the registry (a plugin's own file), the check comes with the registries
    defs = load_task_defs(path)
    assert check_task_defs(defs, host.registries) == ["t.probe_los: unknown key; did you mean 'probe_loss'?"]
    # a key that no loaded plugin declares is refused, a near miss of a core key at once
    (problem,) = check_task_defs(defs, make_host().registries)
    assert problem.startswith("t.probe_los: unknown key") and "probe_loss" not in problem
    path.write_text(PROBE + "  metric_mta: [ACC]\n")
    with pytest.raises(ConfigError, match=r"t.metric_mta: unknown key; did you mean 'metric_meta'\?"):
        load_task_defs(path)


def test_the_original_toolkits_keys_load_without_the_plugin_that_uses_them():
    defs = parse_task_defs(ORIGINAL)
    assert defs["cola"].settings == {"kd_loss": "MseCriterion", "adv_loss": "SymKlCriterion"}
    assert check_task_defs(defs, make_host().registries) == []
    # task_overrides and a checkpoint's saved definition keep them
    assert override_task(defs["cola"], {"kd_loss": "kl"}).settings == {"kd_loss": "kl", "adv_loss": "SymKlCriterion"}
    assert TaskDef(**defs["cola"].model_dump()).settings == defs["cola"].settings


def test_a_run_saved_with_exponents_as_strings_resumes_with_the_floats_they_now_are(tmp_path):
    from mtdnn_core.training.run_dir import check_resume

    saved = {"lr": 5e-05, "regularizers": [{"name": "smart", "params": {"noise_std": "1e-05", "where": "embeddings"}}]}
    now = {"lr": 5e-05, "regularizers": [{"name": "smart", "params": {"noise_std": 1e-05, "where": "embeddings"}}]}
    check_resume(saved, now, tmp_path)  # what an earlier version saved for --set '... noise_std: 1e-05 ...'
    changed = {**now, "regularizers": [{"name": "smart", "params": {"noise_std": 2e-05, "where": "embeddings"}}]}
    with pytest.raises(ConfigError, match="regularizers: .*'1e-05'.* -> .*2e-05"):
        check_resume(saved, changed, tmp_path)


@pytest.mark.parametrize("key, value, message", [
    ("lr", float("inf"), "lr: Input should be a finite number"),
    ("warmup", float("nan"), "warmup: Input should be a finite number"),
    ("lr", True, "lr: a number is expected, not true"),
    ("max_steps", True, "max_steps: a number is expected, not true"),
    ("batch_size", False, "batch_size: a number is expected, not false"),
])
def test_settings_that_are_no_finite_numbers_are_refused(key, value, message):
    with pytest.raises(ConfigError, match=message):
        build_train_config({"tasks": ["rte"], key: value})
    assert build_train_config({"tasks": ["rte"], "overwrite": True}).overwrite is True  # a real flag still is one


def test_regularizer_parameters_refuse_infinite_values():
    from mtdnn_core.regularizers import L2SPConfig

    with pytest.raises(ValueError, match="finite number"):
        L2SPConfig(alpha=float("inf"))


def test_a_config_file_with_a_key_glued_to_its_value_is_explained(tmp_path):
    from mtdnn_core.config import load_train_config

    path = tmp_path / "run.yml"
    path.write_text("lr:1e-4\n")  # YAML reads this as one string
    with pytest.raises(ConfigError, match="not a str .YAML needs a space after a key's colon: write 'lr: 1e-4'"):
        load_train_config(path)
