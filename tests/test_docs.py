"""The documentation stays whole: local links resolve, the README's layout names every plugin
folder, and every example plugin is a complete package that scripts/install installs."""
import math
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted(ROOT.glob("plugins/*/README.md")),
         *sorted(ROOT.glob("examples/*/README.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation but '-' dropped,
    spaces as '-'."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_local_link_of_the_readme_and_docs_resolves():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            linked = page.parent / path if path else page
            if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_the_readme_layout_names_every_plugin_folder_and_the_examples():
    layout = (ROOT / "README.md").read_text(encoding="utf-8").split("## Layout", 1)[1]
    for folder in sorted((ROOT / "plugins").glob("mtdnn_*")):
        assert f"plugins/{folder.name} " in layout, folder.name
    assert "examples/" in layout and "docs/" in layout


def test_every_example_plugin_is_a_tested_package_that_scripts_install_installs():
    install = (ROOT / "scripts" / "install").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = sorted((ROOT / "examples").glob("mtdnn_example_*"))
    assert len(examples) >= 6
    for example in examples:
        project = tomllib.loads((example / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        assert project["entry-points"]["mtdnn"], example.name
        assert (example / "README.md").is_file() and list((example / "tests").glob("test_*.py")), example.name
        assert f"-e examples/{example.name}" in install, example.name
        assert f"examples/{example.name}" in readme, example.name


def guide_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8"), flags=re.S)


def test_the_guide_code_runs_as_shown(mtdnn_host):
    """Every Python block of the guide runs (with the API's names at hand, as a plugin module
    imports them); the head, the sampler and the optimizer it shows then register and work."""
    import types

    import numpy as np
    import torch
    from pydantic import BaseModel, ConfigDict, Field

    from mtdnn_core import api

    plugin = types.ModuleType("guide_plugin")
    plugin.__dict__.update({name: getattr(api, name) for name in api.__all__})
    plugin.__dict__.update(torch=torch, np=np, BaseModel=BaseModel, ConfigDict=ConfigDict, Field=Field)
    blocks = guide_blocks()
    assert len(blocks) >= 8
    for block in blocks:
        exec(compile(block, "docs/plugins.md", "exec"), plugin.__dict__)
    host = mtdnn_host(plugin)
    task = api.TaskDef(name="t", task_type="classification", data_format="PremiseOnly", labels=["a", "b", "c"])
    head = host.registries.heads.build("mean_pool", {"dropout": 0.0}, hidden_size=4, task=task)
    assert head(torch.zeros(2, 5, 4), {"attention_mask": torch.ones(2, 5)}).shape == (2, 3)
    sampler = host.registries.samplers.build("round_robin", {}, lengths=[[5] * 4, [5] * 2], batch_size=2, seed=1)
    schedule = sampler.schedule(0)
    assert [task for task, _ in schedule] == [0, 1, 0]  # two batches of the first task, one of the second
    assert sorted(i for task, rows in schedule if task == 0 for i in rows) == [0, 1, 2, 3]
    optimizer = host.registries.optimizers.build("nadam", {"betas": [0.9, 0.99]}, params=[torch.nn.Parameter(torch.ones(1))],
                                                 lr=0.1)
    assert isinstance(optimizer, torch.optim.NAdam) and optimizer.defaults["betas"] == (0.9, 0.99)
    # the task type: registered, its task definition validates, labels parse and outputs decode
    yes_no = host.registries.task_types.get("yes_no").factory
    task = api.TaskDef(name="q", task_type="yes_no", data_format="PremiseOnly")
    assert api.check_task_defs({"q": task}, host.registries) == []
    assert [yes_no.parse_label(c, task, "f:1") for c in ("Yes", " no", "")] == [1, 0, None]
    with pytest.raises(api.DataError, match="f:2: label 'maybe' is neither yes nor no"):
        yes_no.parse_label("maybe", task, "f:2")
    decoder = yes_no.decoder(task, None)
    logits = torch.tensor([[0.0, math.log(3.0)], [math.log(4.0), 0.0]])  # P(yes) = 3/4, then 1/5
    decoder.add([{"uid": "a", "label": 1}, {"uid": "b", "label": None}], {}, logits)
    out = decoder.result()
    assert out["uids"] == ["a", "b"] and out["predictions"] == [1, 0] and out["golds"] == [1, None]
    assert out["scores"] == pytest.approx([0.75, 0.2])


def test_the_guide_task_type_trains_and_scores(tmp_path, monkeypatch):
    """The guide's task type, as a plugin module, trains one epoch and writes its scores."""
    import json

    from click.testing import CliRunner

    from mtdnn_core.api import cli

    block = next(b for b in guide_blocks() if "class YesNo(TaskType)" in b)
    (tmp_path / "yesno").mkdir()
    (tmp_path / "yesno" / "__init__.py").write_text("")
    (tmp_path / "yesno" / "hooks.py").write_text('import torch\nfrom mtdnn_core.api import *\n\nMTDNN_API = ">=1.1,<2"\n\n' + block)
    monkeypatch.syspath_prepend(str(tmp_path))
    data = tmp_path / "data"
    data.mkdir()
    rows = [f"{i}\t{'yes' if i % 2 else 'no'}\tis {i} odd" for i in range(24)]
    (data / "q_train.tsv").write_text("\n".join(rows[:16]) + "\n")
    (data / "q_dev.tsv").write_text("\n".join(rows[16:]) + "\n")
    (tmp_path / "tasks.yml").write_text("q:\n  task_type: yes_no\n  data_format: PremiseOnly\n")
    runner = CliRunner()
    plugin = ["--plugin", "yesno.hooks"]
    result = runner.invoke(cli, ["validate", *plugin, str(tmp_path / "tasks.yml")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "run"
    result = runner.invoke(cli, ["train", *plugin, "--task-def", str(tmp_path / "tasks.yml"), "--data-dir", str(data),
                                 "--tasks", "q", "--epochs", "1", "--batch-size", "8", "--output-dir", str(out),
                                 "--encoder", "tiny-random-bert", "--max-seq-len", "16", "--num-threads", "2",
                                 "--device", "cpu", "--no-progress"])
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "scores" / "q_dev.epoch0.json").read_text())
    golds = [i % 2 for i in range(16, 24)]
    expected = 100 * sum(p == g for p, g in zip(scores["predictions"], golds)) / len(golds)
    assert scores["metrics"]["accuracy"] == pytest.approx(expected) and "auc" in scores["metrics"]
