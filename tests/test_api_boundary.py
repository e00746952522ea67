"""Plugins, examples and benchmarks use the core through its declared API only.

Every Python file under ``plugins/``, ``examples/`` and ``benchmarks/`` is parsed; each import
of a core module (``import x`` and ``from x import y`` in every form, wherever it stands, also
in code held in a string for a subprocess) must
name ``mtdnn_core.api`` (or ``mtdnn_core.testing``, the public pytest plugin for plugin
authors) and only names those modules declare public: no other core module, no ``_private``
name. A failure names file:line and what to import instead.
"""
from __future__ import annotations

import ast
from pathlib import Path

import mtdnn_core.api as api
import mtdnn_core.testing as testing

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("plugins", "examples", "benchmarks")
SKIPPED_PARTS = {"build", "__pycache__", ".venv", "node_modules"}
PUBLIC = {
    "mtdnn_core.api": set(api.__all__),
    "mtdnn_core.testing": {n for n in vars(testing) if not n.startswith("_")},
}


def _files(root: Path) -> list[Path]:
    return sorted(p for folder in CHECKED for p in (root / folder).rglob("*.py")
                  if not SKIPPED_PARTS & set(p.relative_to(root).parts)
                  and not any(part.endswith(".egg-info") for part in p.parts))


def _is_core(module: str) -> bool:
    return module == "mtdnn_core" or module.startswith("mtdnn_core.")


def violations(root: Path = ROOT) -> list[str]:
    """``file:line: problem`` for every import of the core outside its API under ``root``,
    including code held in a string (a script a benchmark runs in a subprocess)."""
    found: list[str] = []
    for path in _files(root):
        _check_tree(ast.parse(path.read_text(encoding="utf-8"), str(path)), path.relative_to(root), 0, found)
    return found


def _check_tree(tree: ast.AST, where: Path, offset: int, found: list[str]) -> None:
    """Append the problems of ``tree`` (its line numbers shifted by ``offset``) to ``found``."""
    nodes = sorted((n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom, ast.Constant))),
                   key=lambda n: (n.lineno, n.col_offset))
    for node in nodes:
        line = node.lineno + offset
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str) and "mtdnn_core" in node.value:
                try:
                    inner = ast.parse(node.value)
                except SyntaxError:
                    continue  # prose, not code
                _check_tree(inner, where, line - 1, found)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _is_core(alias.name) and alias.name not in PUBLIC:
                    found.append(f"{where}:{line}: import {alias.name} (use mtdnn_core.api)")
        elif node.level == 0 and node.module and _is_core(node.module):
            for alias in node.names:
                if node.module == "mtdnn_core" and alias.name in ("api", "testing"):
                    continue  # from mtdnn_core import api
                if node.module not in PUBLIC:
                    found.append(f"{where}:{line}: from {node.module} import {alias.name} "
                                 f"(import it from mtdnn_core.api)")
                elif alias.name.startswith("_"):
                    found.append(f"{where}:{line}: private name {node.module}.{alias.name}")
                elif alias.name == "*" or alias.name not in PUBLIC[node.module]:
                    found.append(f"{where}:{line}: {node.module} does not declare {alias.name}")


def test_plugins_examples_and_benchmarks_import_the_core_through_its_api_only():
    assert len(_files(ROOT)) > 50  # the folders were found
    problems = violations()
    assert problems == [], "\n".join(problems)


def test_the_check_finds_every_form_of_import(tmp_path):
    """Each way of reaching past the API is reported with its file and line."""
    plugin = tmp_path / "plugins" / "mtdnn_x" / "mtdnn_x"
    plugin.mkdir(parents=True)
    (tmp_path / "examples").mkdir()
    (tmp_path / "benchmarks").mkdir()
    (plugin / "ok.py").write_text("from mtdnn_core.api import Head, hookimpl\nimport mtdnn_core.api as api\n"
                                  "from mtdnn_core import api\nfrom mtdnn_core.testing import make_host\n"
                                  "from .sibling import thing\n")
    (plugin / "bad.py").write_text(
        "import os\n"
        "from mtdnn_core.errors import (\n    DataError,\n    MtdnnError,\n)\n"  # line 2, multi-line
        "def f():\n    import mtdnn_core.training.trainer as t\n"  # line 7, inside a function
        "from mtdnn_core.api import _EXPORTS\n"  # line 8, private
        "from mtdnn_core.api import NotDeclared\n"  # line 9
        "from mtdnn_core import hookimpl\n"  # line 10, the package itself
        "from mtdnn_core.api import *\n"  # line 11
        "SCRIPT = \"\"\"\nimport json\nfrom mtdnn_core.plugins import PluginHost\n\"\"\"\n"  # line 14, code in a string
        "NOTE = 'mtdnn_core.config holds the configs'\n")  # prose: not code
    bad = "plugins/mtdnn_x/mtdnn_x/bad.py"
    assert violations(tmp_path) == [
        f"{bad}:2: from mtdnn_core.errors import DataError (import it from mtdnn_core.api)",
        f"{bad}:2: from mtdnn_core.errors import MtdnnError (import it from mtdnn_core.api)",
        f"{bad}:7: import mtdnn_core.training.trainer (use mtdnn_core.api)",
        f"{bad}:8: private name mtdnn_core.api._EXPORTS",
        f"{bad}:9: mtdnn_core.api does not declare NotDeclared",
        f"{bad}:10: from mtdnn_core import hookimpl (import it from mtdnn_core.api)",
        f"{bad}:11: mtdnn_core.api does not declare *",
        f"{bad}:14: from mtdnn_core.plugins import PluginHost (import it from mtdnn_core.api)",
    ]
