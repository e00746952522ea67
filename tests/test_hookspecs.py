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
