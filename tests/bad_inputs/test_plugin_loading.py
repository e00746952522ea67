"""Plugins the user asked for that cannot load, invalid component names, factories that cannot
take what the core passes: each an error naming the plugin (never a warning and exit 0)."""
import importlib
import os
import subprocess
import sys

import pytest

PLUGIN_HEAD = "from mtdnn_core import hookimpl\n"


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """A package ``badplugins`` on sys.path; ``add(name, source)`` writes one module of it."""
    package = tmp_path / "plugins_src" / "badplugins"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.delenv("MTDNN_STRICT_PLUGINS", raising=False)
    monkeypatch.delenv("MTDNN_PLUGINS", raising=False)

    def add(name: str, source: str) -> str:
        (package / f"{name}.py").write_text(PLUGIN_HEAD + source)
        for module in [m for m in sys.modules if m.split(".")[0] == "badplugins"]:  # another test's package
            monkeypatch.delitem(sys.modules, module)
        importlib.invalidate_caches()
        return f"badplugins.{name}"

    return add


BROKEN = {
    "import_error": ("raise RuntimeError('broken on purpose at import')\n", "RuntimeError: broken on purpose at import"),
    "hook_raises": ("@hookimpl\ndef register_heads(registry):\n    raise ValueError('no heads today')\n",
                    "ValueError: no heads today"),
    "wrong_signature": ("@hookimpl\ndef register_heads(registy):\n    pass\n", "registy"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_named_plugin_that_cannot_load_is_an_error_in_either_mode(ws, plugin_dir, monkeypatch, case):
    source, why = BROKEN[case]
    name = plugin_dir(case, source)
    ws.fails(ws.train("pair", "--plugin", name), f"plugin '{name}'", why, f"leave out --plugin {name}")
    monkeypatch.setenv("MTDNN_STRICT_PLUGINS", "1")
    ws.fails(ws.train("pair", "--plugin", name), f"plugin '{name}'", why)


def test_a_plugin_named_in_mtdnn_plugins_that_cannot_load_is_an_error(ws, plugin_dir, monkeypatch):
    name = plugin_dir("hook_raises", BROKEN["hook_raises"][0])
    monkeypatch.setenv("MTDNN_PLUGINS", name)
    monkeypatch.setenv("MTDNN_STRICT_PLUGINS", "0")
    ws.fails(ws.train("pair"), f"plugin '{name}'", "ValueError: no heads today")


def test_an_installed_plugin_named_with_plugin_that_fails_to_import(ws, tmp_path):
    """Through its entry point, in a fresh process, not strict: exit non-zero, no traceback."""
    dist = tmp_path / "brokenplugin-0.1.dist-info"
    ws.write(dist / "METADATA", "Metadata-Version: 2.1\nName: brokenplugin\nVersion: 0.1\n")
    ws.write(dist / "entry_points.txt", "[mtdnn]\nbroken = brokenplugin_module\n")
    ws.write(tmp_path / "brokenplugin_module.py", "raise ImportError('this plugin is broken on purpose')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MTDNN_STRICT_PLUGINS": "0", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "mtdnn_core.cli", *ws.train("pair", "--plugin", "broken")],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "plugin 'broken' (brokenplugin 0.1) failed: ImportError: this plugin is broken on purpose" in result.stderr
    assert not ws.out.exists()


@pytest.mark.parametrize("bad", ["   ", "a,b", "rte:acc", "x=y", ""])
def test_component_names_must_be_plain(ws, plugin_dir, bad):
    name = plugin_dir("badname", f"from mtdnn_core.model.heads import PoolerHead\n\n@hookimpl\n"
                                 f"def register_heads(registry):\n    registry.add({bad!r}, PoolerHead)\n")
    output = ws.fails(ws.train("pair", "--plugin", name), f"plugin '{name}'", f"head name {bad!r} is not a plain name")
    assert "letters, digits" in output


def test_an_alias_must_be_plain_too(ws, plugin_dir):
    name = plugin_dir("badalias", "from mtdnn_core.model.heads import PoolerHead\n\n@hookimpl\n"
                                  "def register_heads(registry):\n    registry.add('good_head', PoolerHead, aliases=('a b',))\n")
    ws.fails(ws.train("pair", "--plugin", name), f"plugin '{name}'", "alias 'a b' of 'good_head'")


def test_a_head_factory_that_cannot_take_the_core_arguments(ws, plugin_dir):
    name = plugin_dir("badfactory", "@hookimpl\ndef register_heads(registry):\n"
                                    "    def make_head(width):\n        raise AssertionError('never called')\n"
                                    "    registry.add('narrow', make_head)\n")
    tasks = ws.write(ws.root / "narrow.yml", "pair:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n"
                                             "  labels: ['no', 'yes']\n  head: narrow\n")
    args = ws.train("pair", "--plugin", name)
    args[args.index(str(ws.tasks))] = str(tasks)
    output = ws.fails(args, "head 'narrow' cannot be built", f"fix the plugin '{name}'", "make_head(width)")
    assert "hidden_size" in output  # what the core passes


def test_a_task_file_requiring_a_plugin_that_failed_under_all(ws, tmp_path):
    """Loaded only because all were selected, a broken plugin is a warning; a task file that
    requires it makes it an error naming the plugin and why."""
    dist = tmp_path / "brokenplugin-0.1.dist-info"
    ws.write(dist / "METADATA", "Metadata-Version: 2.1\nName: brokenplugin\nVersion: 0.1\n")
    ws.write(dist / "entry_points.txt", "[mtdnn]\nbroken = brokenplugin_module\n")
    ws.write(tmp_path / "brokenplugin_module.py", "raise ImportError('this plugin is broken on purpose')\n")
    ws.write(ws.tasks, ws.tasks.read_text().replace("single:\n", "  requires: {broken: '>=0.1'}\nsingle:\n", 1))
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MTDNN_PLUGINS": "all", "MTDNN_STRICT_PLUGINS": "0",
           "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "mtdnn_core.cli", *ws.train("pair")], env=env, capture_output=True,
                            text=True)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "skipping plugin 'broken'" in result.stderr  # the warning of the 'all' selection
    assert "pair.requires: plugin 'broken' failed to load (ImportError: this plugin is broken on purpose)" in result.stderr
    assert not ws.out.exists()
