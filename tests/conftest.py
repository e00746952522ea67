"""Hook coverage: every hook specification is exercised by some test.

While the tests run, each call of a hook that has an implementation from outside the core's
built-ins (a test's own plugin, a first-party plugin, an example) is recorded. A full run - the
default ``pytest`` command: every test path, nothing deselected, one process, not ``--co`` - that
otherwise passes fails at the end, naming the hooks no test exercised. Partial runs (a file, ``-k``,
``-m "not slow"``, ``--lf``) and runs spread over processes (pytest-xdist) only record.
"""
from __future__ import annotations

import inspect

import pluggy
import pytest

from mtdnn_core import hookspecs
from mtdnn_core.plugins import PluginHost

SPECS = frozenset(name for name, fn in vars(hookspecs).items() if inspect.isfunction(fn) and hasattr(fn, "mtdnn_spec"))
EXERCISED: set[str] = set()
_deselected = False


def _record(caller) -> None:
    """Note ``caller``'s hook when an implementation outside the core's built-ins answers it."""
    if caller.name in SPECS and any(not impl.plugin_name.startswith("core.") for impl in caller.get_hookimpls()):
        EXERCISED.add(caller.name)


# observer, lookup and export hooks are called through pluggy; registration and command hooks
# run each implementation in turn, inside the plugin host
_real_call = pluggy.HookCaller.__call__
_real_registration = PluginHost._call_registration
_real_add_commands = PluginHost.add_commands


def _call(self, **kwargs):
    _record(self)
    return _real_call(self, **kwargs)


def _call_registration(self, hook_name, regs, kind):
    result = _real_registration(self, hook_name, regs, kind)
    _record(getattr(self.pm.hook, hook_name))
    return result


def _add_commands(self, cli):
    result = _real_add_commands(self, cli)
    _record(self.pm.hook.register_commands)
    return result


pluggy.HookCaller.__call__ = _call
PluginHost._call_registration = _call_registration
PluginHost.add_commands = _add_commands


def pytest_unconfigure(config):
    pluggy.HookCaller.__call__ = _real_call
    PluginHost._call_registration = _real_registration
    PluginHost.add_commands = _real_add_commands


def pytest_deselected(items):
    global _deselected
    _deselected = _deselected or bool(items)


def _full_run(config) -> bool:
    return (config.args_source == pytest.Config.ArgsSource.TESTPATHS and not _deselected
            and not config.option.collectonly and not hasattr(config, "workerinput") and not getattr(config.option, "numprocesses", None))


def pytest_sessionfinish(session, exitstatus):
    if exitstatus != pytest.ExitCode.OK or not _full_run(session.config):
        return
    missing = sorted(SPECS - EXERCISED)
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_line(f"hook coverage: no test exercised {', '.join(missing)} (implement and call each in a test; "
                            f"tests/conftest.py)", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def exercised_hooks() -> set[str]:
    """The hooks recorded so far (the live set)."""
    return EXERCISED
