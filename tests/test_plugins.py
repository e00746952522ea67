"""The plugin host: registration checks, provenance, broken plugins, selection."""
import types
import warnings

import pytest

from mtdnn_core import hookimpl
from mtdnn_core.errors import PluginError, UnknownNameError
from mtdnn_core.losses import Loss
from mtdnn_core.plugins import PluginHost
from mtdnn_core.testing import make_host


class Focal(Loss):
    def forward(self, logits, target, weights=None):  # pragma: no cover - only registered
        return logits.sum()


def plugin(**hooks):
    module = types.ModuleType("testplugin")
    for name, fn in hooks.items():
        setattr(module, name, hookimpl(fn))
    return module


def test_builtins_register_through_hooks_with_provenance():
    host = make_host()
    entry = host.registries.heads.get("san")
    assert entry.origin.plugin == "core.heads"
    assert "san" in host.info["core.heads"].registered["heads"]


def test_third_party_component_is_attributed_to_its_plugin():
    host = make_host(plugin(register_losses=lambda registry: registry.add("focal", Focal)))
    assert host.registries.losses.get("focal").origin.plugin == "testplugin"


def test_duplicate_names_say_which_plugins_clash_and_are_fatal_in_strict_mode():
    host = make_host(plugin(register_losses=lambda registry: registry.add("ce", Focal)))
    with pytest.raises(PluginError, match="loss 'ce' is registered twice: by core.losses .* and by testplugin"):
        host.registries  # noqa: B018


NLI = """\
from mtdnn_core.api import Task, parse_task_defs

MTDNN_API = ">=1.0,<2"
DEFS = parse_task_defs("entail:\\n  data_format: PremiseAndOneHypothesis\\n  task_type: Classification\\n"
                       "para:\\n  data_format: PremiseAndOneHypothesis\\n  task_type: Classification\\n", "nli")


@hookimpl
def register_tasks(registry):
    for name, definition in DEFS.items():
        registry.add(name, Task(definition))
"""


@pytest.fixture
def nli(installed_plugin):
    """An installed plugin ``nli`` (distribution mtdnn-test-nli 0.3.0) registering tasks entail and para."""
    return installed_plugin("nli", NLI, version="0.3.0")


def _clashing_plugin():
    """Registered after nli (plugins register in name order). Takes a built-in head name, a built-in metric alias and
    another plugin's task name, and adds names of its own before and after each clash."""
    from mtdnn_core.config import parse_task_defs
    from mtdnn_core.metrics import Metric
    from mtdnn_core.model.heads import PoolerHead
    from mtdnn_core.tasks import Task

    entail = Task(parse_task_defs("entail:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n")["entail"])

    def heads(registry):
        registry.add("pooler", PoolerHead)
        registry.add("my_head", PoolerHead)

    def metrics(registry):
        registry.add("my_acc", Metric("my_acc", lambda g, p, s: 1.0), aliases=("ACC", "MYACC"))

    def tasks(registry):
        registry.add("entail", entail)
        registry.add("mytask", entail)

    return plugin(register_heads=heads, register_metrics=metrics, register_tasks=tasks)


def test_a_name_clash_removes_nothing_in_default_mode(nli):
    host = PluginHost(["nli"], strict=False)
    host.add_plugin(_clashing_plugin(), name="xclasher", version="1.0")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        regs = host.registries
    # every built-in and every nli entry survives; the clasher keeps what did not clash
    assert {"pooler", "ranking", "san", "token", "my_head"} <= set(regs.heads.names())
    assert regs.heads.get("pooler").origin.plugin == "core.heads"
    assert regs.metrics.get("ACC").name == "accuracy" and regs.metrics.get("MYACC").name == "my_acc"
    assert regs.tasks.get("entail").origin.plugin == "nli" and {"para", "mytask"} <= set(regs.tasks.names())
    refused = host.info["xclasher"].refused
    assert len(refused) == 3 and host.info["xclasher"].error is None
    assert any("head 'pooler' is registered twice: by core.heads" in r and "by xclasher 1.0" in r for r in refused)
    assert any("metric 'ACC'" in r for r in refused) and any("task 'entail' is registered twice: by nli" in r for r in refused)
    assert sum("refused" in str(w.message) for w in caught) == 3


def test_plugins_command_shows_refusals_and_failures(monkeypatch):
    from click.testing import CliRunner

    from mtdnn_core import cli, plugins

    bad_hook = plugin(register_head=lambda registry: None)
    real = plugins.describe_installed

    def fake(names=None):
        host = PluginHost(strict=False, load_all=False)
        host.add_plugin(_clashing_plugin(), name="xclasher", version="1.0")
        host.add_plugin(bad_hook, name="misspelt", version="0.1")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            host.registries  # noqa: B018
        return list(host.info.values())

    monkeypatch.setattr(plugins, "describe_installed", fake)
    result = CliRunner().invoke(cli.main, ["plugins"])
    monkeypatch.setattr(plugins, "describe_installed", real)
    assert result.exit_code == 0, result.output
    assert "REFUSED head 'pooler' from xclasher 1.0" in result.output
    assert "misspelt" in result.output and "FAILED" in result.output and "register_head" in result.output


def test_wrong_base_class_is_rejected():
    host = make_host(plugin(register_losses=lambda registry: registry.add("bad", dict)))
    with pytest.raises(PluginError, match="must subclass Loss"):
        host.registries  # noqa: B018


def test_misspelled_hook_implementation_is_an_error():
    host = make_host(plugin(register_head=lambda registry: None))
    with pytest.raises(PluginError, match="'register_head' matches no hook spec; did you mean 'register_heads'"):
        host.registries  # noqa: B018


def test_broken_plugin_is_reported_and_skipped_when_not_strict():
    def broken(registry):
        raise RuntimeError("boom")

    host = PluginHost(strict=False)
    host.add_plugin(plugin(register_heads=broken), name="broken", version="9.9")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert "pooler" in host.registries.heads  # the rest still works
    assert any("skipping plugin 'broken'" in str(w.message) and "boom" in str(w.message) for w in caught)
    assert host.failures()[0].name == "broken"


def test_unknown_name_lists_installed_and_suggests():
    with pytest.raises(UnknownNameError) as err:
        make_host().registries.optimizers.get("adamww")
    assert "no optimizer 'adamww'; did you mean 'adamw'? installed: adamax, adamw, radam, sgd" in str(err.value)


def test_did_you_mean_puts_a_case_only_difference_first_and_ignores_case():
    from mtdnn_core.api import did_you_mean

    assert did_you_mean("MAE", ["ACC", "CMAT", "mae"]) == "; did you mean 'mae'?"  # not the closer-cased 'CMAT'
    assert did_you_mean("ACURACY", ["ACC", "accuracy"]) == "; did you mean 'accuracy'?"
    assert did_you_mean("F2", ["F1", "f1_macro"]) == "; did you mean 'F1'?"
    assert did_you_mean("zzz", ["ACC", "mae"]) == ""


def test_a_metric_named_in_another_case_is_suggested_by_its_registered_name():
    metrics = make_host().registries.metrics
    with pytest.raises(UnknownNameError) as err:
        metrics.get("ACCURACY")
    assert str(err.value).startswith("no metric 'ACCURACY'; did you mean 'accuracy'? installed: ")


def test_a_name_no_installed_plugin_provides_says_so_in_one_clause(nli, monkeypatch):
    monkeypatch.delenv("MTDNN_PLUGINS", raising=False)
    with pytest.raises(UnknownNameError) as err:
        PluginHost(strict=True).registries.tasks.get("nothing")
    message = str(err.value)
    tail = message.split("; none of the installed plugins that are not loaded (", 1)[1]
    assert tail.endswith(") provides it") and "nli" in tail and tail.count("(") == 0


def test_entry_point_discovery_of_an_installed_plugin(nli):
    host = PluginHost(["nli"], strict=True)
    assert "entail" in host.registries.tasks
    info = host.info["nli"]
    assert info.distribution == "mtdnn-test-nli" and info.version == "0.3.0"
    assert set(info.registered["tasks"]) == {"entail", "para"}


def test_unknown_plugin_name_suggests_installed(nli):
    with pytest.raises(PluginError, match="no plugin 'nil' is installed; did you mean 'nli'"):
        PluginHost(["nil"], strict=True).registries  # noqa: B018


def test_env_allow_and_block_lists(nli, monkeypatch):
    monkeypatch.setenv("MTDNN_PLUGINS", "nli")
    assert "entail" in PluginHost(strict=True).registries.tasks
    monkeypatch.setenv("MTDNN_DISABLE_PLUGINS", "nli")
    registries = PluginHost(strict=True).registries
    assert "entail" not in registries.tasks


def test_task_not_loaded_hints_at_the_plugin_that_provides_it(nli, monkeypatch):
    monkeypatch.delenv("MTDNN_PLUGINS", raising=False)
    with pytest.raises(UnknownNameError, match="provided by plugin nli: add --plugin nli"):
        PluginHost(strict=True).registries.tasks.get("entail")
    # with the plugin loaded, a name nobody provides gets no --plugin advice
    with pytest.raises(UnknownNameError) as err:
        PluginHost(["nli"], strict=True).registries.tasks.get("ential")
    assert "did you mean 'entail'" in str(err.value) and "add --plugin" not in str(err.value)


def test_a_module_path_loads_as_a_plugin(tmp_path, monkeypatch):
    (tmp_path / "my_local_plugin.py").write_text(
        "from mtdnn_core import hookimpl\nfrom mtdnn_core.losses import CrossEntropy\n\n"
        "@hookimpl\ndef register_losses(registry):\n    registry.add('local_ce', CrossEntropy)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost(["my_local_plugin"], strict=True)
    with pytest.raises(PluginError):  # no dot: an entry-point name, and none is installed
        host.registries  # noqa: B018
    (tmp_path / "pkgplug").mkdir()
    (tmp_path / "pkgplug" / "__init__.py").write_text("")
    (tmp_path / "pkgplug" / "hooks.py").write_text((tmp_path / "my_local_plugin.py").read_text())
    host = PluginHost(["pkgplug.hooks"], strict=True)
    assert host.registries.losses.get("local_ce").origin.plugin == "pkgplug.hooks"


def test_observer_hooks_are_typed_methods():
    seen = []
    host = make_host(plugin(on_evaluate=lambda dataset, epoch, step, metrics: seen.append((dataset, step, metrics))))
    host.on_evaluate("rte_dev", 0, 5, {"accuracy": 50.0})
    host.on_step_end({"step": 1})  # no implementation: a no-op
    assert seen == [("rte_dev", 5, {"accuracy": 50.0})]
