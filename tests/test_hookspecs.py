"""Meta-tests: every hook is documented (in the plugin author's guide) and described."""
import inspect
from pathlib import Path

from mtdnn_core import hookspecs

GUIDE = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text()
SPECS = [name for name, fn in vars(hookspecs).items()
         if inspect.isfunction(fn) and hasattr(fn, "mtdnn_spec")]


def test_every_hook_appears_in_the_plugin_guide_and_has_a_docstring():
    assert len(SPECS) >= 14
    for name in SPECS:
        assert f"`{name}`" in GUIDE, name
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert doc and "Added in" in doc, name


def test_hook_coverage_records_calls_answered_by_a_plugin_only(exercised_hooks):
    """The recorder of tests/conftest.py: a hook called with a test plugin's implementation is
    recorded; one answered by the core's built-ins alone is not."""
    import types

    from mtdnn_core import hookimpl
    from mtdnn_core.testing import make_host

    was = {name: name in exercised_hooks for name in ("on_log", "register_encoders")}
    exercised_hooks.difference_update(was)
    try:
        make_host().registries  # noqa: B018 - only built-ins register encoders
        assert "register_encoders" not in exercised_hooks
        plugin = types.ModuleType("listener")
        plugin.on_log = hookimpl(lambda record: None)
        make_host(plugin).on_log({"event": "train", "step": 1})
        assert "on_log" in exercised_hooks
    finally:  # leave the record as it was: this check exercises nothing for the others
        exercised_hooks.difference_update(was)
        exercised_hooks.update(name for name, seen in was.items() if seen)
