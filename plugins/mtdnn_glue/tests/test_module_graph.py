"""The GLUE plugin's modules import each other without a cycle (the core's locators receive the
task definition, so no locator needs the module that registers the tasks)."""
import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "mtdnn_glue"


def test_the_plugins_modules_import_each_other_without_a_cycle():
    graph = nx.DiGraph()
    for path in PACKAGE.glob("*.py"):
        graph.add_node(path.stem)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("mtdnn_glue."):
                graph.add_edge(path.stem, node.module.split(".")[1])
    assert {"plugin", "convert", "domain", "cli", "locators"} <= set(graph)
    assert ("plugin", "locators") in graph.edges and ("locators", "domain") in graph.edges
    assert list(nx.simple_cycles(graph)) == []
