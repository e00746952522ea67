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
