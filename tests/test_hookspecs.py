"""Meta-tests: every hook is documented and described."""
import inspect
from pathlib import Path

from mtdnn_core import hookspecs

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
SPECS = [name for name, fn in vars(hookspecs).items()
         if inspect.isfunction(fn) and hasattr(fn, "mtdnn_spec")]


def test_every_hook_appears_in_the_readme_and_has_a_docstring():
    assert len(SPECS) >= 14
    for name in SPECS:
        assert f"`{name}`" in README, name
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert doc and "Added in" in doc, name
