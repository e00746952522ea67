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


def test_duplicate_names_say_which_plugins_clash():
    host = make_host(plugin(register_losses=lambda registry: registry.add("ce", Focal)))
    with pytest.raises(PluginError, match="loss 'ce' is registered twice: by testplugin and by core.losses"):
        host.registries  # noqa: B018


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


def test_entry_point_discovery_of_the_installed_glue_plugin():
    host = PluginHost(["glue"], strict=True)
    assert "rte" in host.registries.tasks
    info = host.info["glue"]
    assert info.distribution == "mtdnn-glue" and info.version == "0.1.0"
    assert "rte" in info.registered["tasks"]


def test_unknown_plugin_name_suggests_installed(monkeypatch):
    with pytest.raises(PluginError, match="no plugin 'glu' is installed; did you mean 'glue'"):
        PluginHost(["glu"], strict=True).registries  # noqa: B018


def test_env_allow_and_block_lists(monkeypatch):
    monkeypatch.setenv("MTDNN_PLUGINS", "glue")
    assert "rte" in PluginHost(strict=True).registries.tasks
    monkeypatch.setenv("MTDNN_DISABLE_PLUGINS", "glue")
    registries = PluginHost(strict=True).registries
    assert "rte" not in registries.tasks


def test_task_not_loaded_hints_at_the_plugin(monkeypatch):
    monkeypatch.delenv("MTDNN_PLUGINS", raising=False)
    with pytest.raises(UnknownNameError, match="installed plugins not loaded: .*glue.*--plugin"):
        PluginHost(strict=True).registries.tasks.get("rte")
