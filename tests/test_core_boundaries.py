"""What the core must not do: branch on task-type names; re-initialise a plugin head's weights."""
import ast
from pathlib import Path

import torch
from torch import nn

from mtdnn_core.config import TaskDef
from mtdnn_core.model.heads import Head
from mtdnn_core.model.multitask import MultiTaskModel
from mtdnn_core.testing import make_host

CORE = Path(__file__).resolve().parents[1] / "mtdnn_core"
# where the built-in task types live: plugins that happen to ship with the core
TASK_TYPE_HOMES = {CORE / "task_types", CORE / "builtin"}


def _string_constants(tree: ast.AST) -> set[str]:
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    # a head declaring the task types it serves (``task_types = ("ranking",)``) is metadata, not a branch
    declarations = {id(c) for node in ast.walk(tree) if isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "task_types" for t in node.targets) for c in ast.walk(node.value)}
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and id(node) not in declarations}


def test_the_core_holds_no_task_type_branches():
    registry = make_host().registries.task_types
    names = {n for entry in registry for n in (entry.name, *entry.aliases)}
    assert {"classification", "Regression", "SequenceLabeling"} <= names
    offenders = []
    for path in CORE.rglob("*.py"):
        if any(home in path.parents for home in TASK_TYPE_HOMES) or path == CORE / "api.py":  # api: a table of exports
            continue
        tree = ast.parse(path.read_text())
        offenders += [f"{path.relative_to(CORE)}: '{c}'" for c in _string_constants(tree) & names]
        for node in ast.walk(tree):  # no comparison of a task_type with a literal of any name
            sides = (node.left, *node.comparators) if isinstance(node, ast.Compare) else ()
            if any(isinstance(side, ast.Attribute) and side.attr == "task_type" for side in sides) and any(
                    isinstance(side, (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict)) for side in sides):
                offenders.append(f"{path.relative_to(CORE)}:{node.lineno}: compares task_type with a literal")
    assert offenders == [], offenders


class BiasedHead(Head):
    """A plugin head that initialises itself."""

    def __init__(self, hidden_size, task):
        super().__init__(hidden_size, task)
        self.out = nn.Linear(hidden_size, 2)
        nn.init.constant_(self.out.bias, 5.0)
        nn.init.constant_(self.out.weight, 0.5)

    def forward(self, hidden, batch):
        return self.out(hidden[:, 0])


def test_a_heads_own_initialisation_is_kept_and_builtins_get_the_encoders():
    from mtdnn_core.model.encoder import load_tiny_random_bert
    from mtdnn_core.model.heads import PoolerHead

    encoder, _ = load_tiny_random_bert()
    task = TaskDef(name="t", task_type="classification", data_format="PremiseOnly", n_class=2)
    torch.manual_seed(0)
    model = MultiTaskModel(encoder, {"mine": BiasedHead(32, task), "builtin": PoolerHead(32, task)})
    assert torch.all(model.heads["mine"].out.bias == 5.0) and torch.all(model.heads["mine"].out.weight == 0.5)
    builtin = model.heads["builtin"].out
    assert torch.all(builtin.bias == 0) and builtin.weight.std().item() < 0.05  # normal(0, 0.02), not uniform(+-1/sqrt(32))


# The core names no plugin: not as an import, an identifier or a string (messages, help, data).
# Docstrings are documentation and may show examples. Plugin names are matched as words
# (``mtdnn_glue``, ``glue:sample``, ``--plugin kd``); ``convert`` is also an English verb, so in
# strings only as a command or package name (``mtdnn convert``, ``mtdnn-convert``).
PLUGIN_NAMES = {"glue", "ner", "squad", "hnn", "kd", "alum", "convert"}
# task names that are also ordinary words (a chunk of bytes, a position) are not looked for
COMMON_WORDS = {"chunk", "pos"}
ALLOWED = {
    # the original toolkit's names, recognised so its task-definition files load: kd_loss, adv_loss
    ("builtin/original_names.py", "kd"),
    # the shared real data sets are folders named by their data set (glue/, squad/, hnn/, conll2003/)
    ("testing.py", "glue"), ("testing.py", "squad"), ("testing.py", "hnn"),
    # a test helper's task definition that reads RTE's canonical files (rte_train.tsv) of that data
    ("testing.py", "rte"),
}


def _words(text: str) -> set[str]:
    import re

    return {w.lower() for w in re.findall(r"[A-Za-z]+|\d+", text.replace("_", " "))}


def _plugin_task_names() -> set[str]:
    """Every task name and alias the installed plugins register (the core's own excluded)."""
    import warnings

    from mtdnn_core.plugins import PluginHost, installed_entry_points

    with warnings.catch_warnings():  # plugins' own load warnings are not this test's subject
        warnings.simplefilter("ignore")
        tasks = PluginHost(sorted(installed_entry_points()), strict=False).registries.tasks
    return {n.lower() for entry in tasks if not entry.origin.plugin.startswith("core.") for n in (entry.name, *entry.aliases)}


def _names_in(tree: ast.AST) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(identifiers and import names, string constants other than docstrings), with their lines."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    identifiers, strings = [], []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            strings.append((line, node.value))
        elif isinstance(node, ast.Name):
            identifiers.append((line, node.id))
        elif isinstance(node, ast.Attribute):
            identifiers.append((line, node.attr))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            identifiers.append((line, node.name))
        elif isinstance(node, ast.arg):
            identifiers.append((line, node.arg))
        elif isinstance(node, ast.keyword) and node.arg:
            identifiers.append((line, node.arg))
        elif isinstance(node, ast.alias):
            identifiers += [(line, node.name), (line, node.asname or "")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            identifiers.append((line, node.module))
    return identifiers, strings


def _offences(source: str, where: str, tasks: set[str]) -> list[str]:
    import re

    identifiers, strings = _names_in(ast.parse(source))
    found = []
    for line, name in identifiers:
        words = _words(name)
        found += [(line, w) for w in words & (PLUGIN_NAMES - {"convert"})]
        if name.lower() in PLUGIN_NAMES or name.startswith("mtdnn_convert"):
            found.append((line, name.lower()))
        found += [(line, name.lower())] if name.lower() in tasks - COMMON_WORDS else []
    for line, text in strings:
        words = _words(text)
        found += [(line, w) for w in words & (PLUGIN_NAMES - {"convert"})]
        if re.search(r"mtdnn[ _-]convert\b|--plugin[ =]convert\b", text) or text == "convert":
            found.append((line, "convert"))
        found += [(line, w) for w in words & (tasks - COMMON_WORDS)]
    return sorted({f"{where}:{line}: {name}" for line, name in found if (where, name) not in ALLOWED})


def test_the_core_names_no_plugin_and_no_plugins_task():
    from mtdnn_core.plugins import installed_entry_points

    tasks = _plugin_task_names()
    if "glue" in installed_entry_points():  # the names are collected from the registrations
        assert {"rte", "mnli", "qnnli"} <= tasks
    offenders = [o for path in sorted(CORE.rglob("*.py"))
                 for o in _offences(path.read_text(encoding="utf-8"), str(path.relative_to(CORE)), tasks)]
    assert offenders == [], offenders


def test_the_boundary_check_finds_each_kind_of_naming():
    """The check itself: an import, an identifier, a message and a task name are each found; a
    docstring, a common word and an allowed file are not."""
    source = ("from mtdnn_glue.convert import GLUE\n"
              "def run_squad():\n    '''Docstrings may say glue.'''\n    return 'try `mtdnn convert` first'\n"
              "TASKS = ('rte', 'a chunk', 'pos', 'ENCODE_CHUNK', 'convert the file to UTF-8')\n")
    found = _offences(source, "probe.py", {"rte", "chunk", "pos"})
    assert found == ["probe.py:1: glue", "probe.py:2: squad", "probe.py:4: convert", "probe.py:5: rte"], found
    assert _offences("x = 'glue'\n", "testing.py", set()) == []
