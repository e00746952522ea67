"""The original MT-DNN toolkit's SQuAD task-definition file loads unchanged with this plugin: its
spellings resolve to the plugin's components and every task checks clean; without the plugin,
validate names it."""
from pathlib import Path

from click.testing import CliRunner

from mtdnn_core.api import PluginHost, check_task_defs, cli, load_task_defs, parse_task_defs

# the fixture mirroring experiments/squad/squad_task_def.yml, kept with the core's original-file fixtures
FIXTURE = Path(__file__).resolve().parents[3] / "tests" / "original_task_defs" / "squad_task_def.yml"


def test_the_original_squad_file_loads_and_checks_clean():
    registries = PluginHost(["squad"], strict=True).registries
    defs = load_task_defs(FIXTURE)
    assert check_task_defs(defs, registries) == []  # every task available, every name known
    completed = parse_task_defs(FIXTURE.read_text(), "squad", registries.task_types)
    assert {n: d.task_type for n, d in completed.items()} == {"squad": "span", "squad-v2": "span_v2", "record": "span",
                                                              "squadyn": "span_v2"}


def test_original_spellings_resolve_to_the_plugins_components():
    registries = PluginHost(["squad"], strict=True).registries
    expected = {  # original name -> (kind attribute, canonical name here)
        "SpanClassification": ("task_types", "span"), "SpanClassificationYN": ("task_types", "span_v2"),
        "Span": ("task_types", "span"), "SpanYN": ("task_types", "span_v2"), "CLUE_SPAN": ("data_formats", "squad_json"),
        "MRC": ("data_formats", "squad_json"), "SpanCeCriterion": ("losses", "span_ce"),
        "EmF1": ("metrics", "squad_report"), "EmF12": ("metrics", "squad_v2_report"),
    }
    for original, (kind, canonical) in expected.items():
        assert getattr(registries, kind).get(original).name == canonical, original


def test_validate_names_the_plugin_a_task_needs():
    runner = CliRunner()
    result = runner.invoke(cli, ["validate", str(FIXTURE)])  # squad plugin not loaded
    assert result.exit_code == 0, result.output
    assert "task 'squad' cannot be trained with the loaded plugins: task type 'SpanClassification' is provided " \
           "by plugin squad: add --plugin squad" in result.output
    result = runner.invoke(cli, ["validate", "--plugin", "squad", str(FIXTURE)])
    assert result.exit_code == 0 and "not available" not in result.output, result.output
