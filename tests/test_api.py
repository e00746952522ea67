"""The plugin API: every declared name resolves, is documented and typed; observer payloads;
the API range a plugin states is checked when it loads."""
import ast
import importlib
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import mtdnn_core.api as api
from mtdnn_core.api import PluginError, PluginHost, hookimpl
from mtdnn_core.observers import LogRecord, StepState, TrainSummary

ROOT = Path(__file__).resolve().parents[1]


def test_every_declared_name_resolves_to_the_object_of_its_module():
    for name, (target, doc) in api._EXPORTS.items():
        module, _, attribute = target.partition(":")
        assert getattr(api, name) is getattr(importlib.import_module(module), attribute or name), name
        assert doc.strip(), f"{name} has no description"
    assert sorted(api.__all__) == sorted(["API_VERSION", *api._EXPORTS])
    with pytest.raises(AttributeError, match="no name 'Nothing'"):
        api.Nothing  # noqa: B018


def test_type_checkers_see_the_same_names_as_the_table():
    """The ``if TYPE_CHECKING`` imports (what a type checker reads) match the run-time table."""
    tree = ast.parse((ROOT / "mtdnn_core" / "api.py").read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    seen = {}
    for node in block.body:
        for alias in node.names:
            seen[alias.asname] = node.module if alias.name == alias.asname else f"{node.module}:{alias.name}"
    assert seen == {name: target for name, (target, _) in api._EXPORTS.items()}


def test_importing_the_api_does_not_import_torch():
    code = "import sys, mtdnn_core.api; from mtdnn_core.api import hookimpl, MtdnnError; print('torch' in sys.modules)"
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_payloads_have_typed_fields_and_still_read_as_dicts_with_a_warning():
    state = StepState(step=3, epoch=1, task="rte", loss=0.5, lr=1e-3, grad_norm=None)
    assert (state.step, state.task, state.loss, state.grad_norm) == (3, "rte", 0.5, None)
    with pytest.warns(DeprecationWarning, match=r"StepState: reading it as a dict \(\['loss'\]\) is deprecated"):
        assert state["loss"] == 0.5
    with pytest.warns(DeprecationWarning):
        assert state.get("missing", 7) == 7 and "lr" in state
    record = LogRecord.of({"event": "train", "step": 2, "loss": 1.25, "reg_smart": 0.1})
    assert (record.event, record.step, record.data["reg_smart"]) == ("train", 2, 0.1)
    with pytest.warns(DeprecationWarning):
        assert record["reg_smart"] == 0.1 and record.get("event") == "train"
    summary = TrainSummary.of({"step": 8, "epoch": 2, "output_dir": "out", "history": [], "nonfinite_skipped": 0})
    assert summary.best_step is None and summary.metric_for_best is None
    with pytest.warns(DeprecationWarning):
        assert "best_step" not in summary  # the keys a run without metric_for_best always had


def test_host_turns_the_trainers_dicts_into_payloads():
    seen = []

    class Observer:
        @hookimpl
        def on_step_end(self, state):
            seen.append(state)

        @hookimpl
        def on_log(self, record):
            seen.append(record)

    host = PluginHost([], strict=True)
    host.attach(Observer(), "observer")
    host.on_step_end({"step": 1, "epoch": 0, "task": "rte", "loss": 2.0, "lr": 0.1, "grad_norm": 3.0})
    host.on_log({"event": "eval", "step": 1, "metrics": {"rte_dev": {"accuracy": 50.0}}})
    assert seen[0] == StepState(1, 0, "rte", 2.0, 0.1, 3.0)
    assert seen[1] == LogRecord("eval", 1, {"event": "eval", "step": 1, "metrics": {"rte_dev": {"accuracy": 50.0}}})


def _plugin_package(tmp_path, monkeypatch, name, stated):
    """A plugin package ``name`` on sys.path whose module ``name.plugin`` registers a loss and
    states ``stated`` (a line of source, or nothing)."""
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(textwrap.dedent(f"""\
        from mtdnn_core.api import Loss, hookimpl
        {stated}

        class Zero(Loss):
            def forward(self, logits, target, weights=None):
                return logits.sum() * 0

        @hookimpl
        def register_losses(registry):
            registry.add("zero_{name}", Zero)
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    return f"{name}.plugin"


def test_a_plugin_whose_range_matches_loads_without_a_warning(tmp_path, monkeypatch):
    module = _plugin_package(tmp_path, monkeypatch, "apiok", 'MTDNN_API = ">=1.0,<2"')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        host = PluginHost([module], strict=True)
        assert "zero_apiok" in host.registries.losses


def test_a_plugin_for_another_api_is_refused_naming_it_its_range_and_the_installed_api(tmp_path, monkeypatch):
    module = _plugin_package(tmp_path, monkeypatch, "apinew", 'MTDNN_API = ">=2.0,<3"')
    with pytest.raises(PluginError) as info:
        PluginHost([module]).registries  # noqa: B018
    message = str(info.value)
    assert f"plugin '{module}'" in message and ">=2.0,<3" in message and f"provides API {api.API_VERSION}" in message


def test_a_malformed_range_is_refused(tmp_path, monkeypatch):
    module = _plugin_package(tmp_path, monkeypatch, "apibad", 'MTDNN_API = "one point oh"')
    with pytest.raises(PluginError, match=r"MTDNN_API = 'one point oh' is not a version range"):
        PluginHost([module]).registries  # noqa: B018


def test_a_plugin_that_states_nothing_loads_and_warns_once(tmp_path, monkeypatch):
    module = _plugin_package(tmp_path, monkeypatch, "apinone", "")
    with pytest.warns(RuntimeWarning, match=rf"plugin '{module}' does not state the plugin API.*MTDNN_API = \">=1.0,<2\""):
        assert "zero_apinone" in PluginHost([module]).registries.losses
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "zero_apinone" in PluginHost([module]).registries.losses


def test_the_cli_refuses_a_plugin_for_another_api_without_a_traceback(tmp_path, monkeypatch):
    module = _plugin_package(tmp_path, monkeypatch, "apiold", 'MTDNN_API = "<1.0"')
    data = tmp_path / "data"
    data.mkdir()
    out = tmp_path / "run"
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(api.cli, ["train", "--plugin", module, "--tasks", "rte", "--data-dir", str(data),
                                          "--output-dir", str(out), "--encoder", "tiny-random-bert"])
    assert result.exit_code != 0
    assert f"plugin '{module}'" in result.output and "<1.0" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no run directory started


def test_every_first_party_plugin_states_a_range_that_includes_this_api():
    from packaging.specifiers import SpecifierSet

    modules = [*sorted((ROOT / "plugins").glob("mtdnn_*/mtdnn_*/plugin.py")),
               ROOT / "examples" / "mtdnn_example_head" / "mtdnn_example_head" / "__init__.py"]
    assert len(modules) >= 8
    for path in modules:
        tree = ast.parse(path.read_text())
        stated = [n.value.value for n in tree.body if isinstance(n, ast.Assign)
                  and any(getattr(t, "id", "") == "MTDNN_API" for t in n.targets)]
        assert stated, f"{path.relative_to(ROOT)} states no MTDNN_API"
        assert api.API_VERSION in SpecifierSet(stated[0]), f"{path.relative_to(ROOT)}: {stated[0]}"


def test_the_reference_lists_every_name_of_the_api_and_no_other():
    text = (ROOT / "docs" / "api.md").read_text()
    reference = text[text.index("## Reference"):]
    listed = [line.split("`")[1] for line in reference.splitlines() if line.startswith("- `")]
    assert sorted(listed) == sorted(api.__all__)


def test_the_earlier_locations_still_work_and_are_the_same_objects():
    """Code written before the API keeps working: the CLI's underscored helpers and the
    package's ``hookimpl`` are the public ones."""
    import mtdnn_core
    from mtdnn_core import cli as old

    assert mtdnn_core.hookimpl is api.hookimpl
    assert (old._parse_sets, old._split_data_dirs, old._train_config, old._train_options, old._print_summary) == (
        api.parse_sets, api.split_data_dirs, api.config_from_options, api.train_options, api.print_summary)
    assert old.plugin_option is api.plugin_option and old.strict_option is api.strict_option
    assert api.parse_sets(("lr=0.001", "sampler_config={temperature: 3}")) == {"lr": 0.001, "sampler_config": {"temperature": 3}}
    assert api.split_data_dirs(("glue_data", "rte=other/RTE")) == {"data_dir": "glue_data", "task_data_dirs": {"rte": "other/RTE"}}
