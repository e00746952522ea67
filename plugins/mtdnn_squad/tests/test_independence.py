"""The SQuAD plugin needs only the core: no other plugin in its requirements or imports."""
import ast
import tomllib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


def test_the_squad_plugin_requires_and_imports_no_other_plugin():
    requires = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]["dependencies"]
    assert [r for r in requires if r.startswith("mtdnn-")] == ["mtdnn-core>=0.1,<0.2"]
    imported = set()
    for path in (PACKAGE / "mtdnn_squad").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert sorted(name for name in imported if name.startswith("mtdnn")) == ["mtdnn_core", "mtdnn_squad"]
