"""YAML alias bombs in every YAML the CLI reads fail fast; `mtdnn plot` on damaged or empty logs
says what is wrong with which file."""
import json
import time

import pytest
from click.testing import CliRunner

from mtdnn_core.cli import main
from mtdnn_core.config import MAX_ALIAS_EXPANSION


def laughs(levels: int = 9, width: int = 9) -> str:
    """The classic "billion laughs": each level lists the previous one ``width`` times, so the
    document expands to width**levels values (9**9 = 387,420,489 here) from a few hundred bytes."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def timed_failure(ws, args, *expected):
    """Seconds the failing command took, the CLI's imports (torch...) done before."""
    CliRunner().invoke(main, ["train", "--config", str(ws.root / "missing.yml")])
    CliRunner().invoke(main, ["validate", str(ws.root / "missing.yml")])
    start = time.perf_counter()
    ws.fails(args, *expected)
    return time.perf_counter() - start


def test_the_bomb_is_small():
    assert len(laughs()) < 600


def test_billion_laughs_in_config_fails_fast(ws):
    config = ws.write(ws.root / "run.yml", "tasks: [pair]\n" + laughs())
    before = config.read_bytes()
    elapsed = timed_failure(ws, ws.train("pair", "--config", config), str(config), "aliases (*name) expand it",
                            str(MAX_ALIAS_EXPANSION))
    assert elapsed < 1.0
    assert config.read_bytes() == before and not ws.out.exists()


def test_billion_laughs_in_a_set_value_fails_fast(ws):
    value = "{" + laughs().strip().replace("\n", ", ") + "}"
    elapsed = timed_failure(ws, ws.train("pair", "--set", f"task_overrides={value}"), "--set task_overrides",
                            "aliases (*name) expand it")
    assert elapsed < 1.0


def test_billion_laughs_in_a_task_file_fails_fast(ws):
    bomb = ws.write(ws.root / "bomb.yml", ws.tasks.read_text() + laughs())
    args = ws.train("pair")
    args[args.index(str(ws.tasks))] = str(bomb)
    assert timed_failure(ws, args, str(bomb), "aliases (*name) expand it") < 1.0
    assert timed_failure(ws, ["validate", bomb], str(bomb), "aliases (*name) expand it") < 1.0


def test_a_recursive_alias_is_refused(ws):
    config = ws.write(ws.root / "run.yml", "tasks: [pair]\nloop: &loop [1, *loop]\n")
    ws.fails(ws.train("pair", "--config", config), f"{config}:2", "refers to the anchor it is inside of")


def test_a_few_aliases_stay_allowed(ws):
    """Repeating a block with an alias is ordinary YAML: only the expansion is bounded."""
    config = ws.write(ws.root / "run.yml", "tasks: [pair]\nsampler_config: &s {temperature: 2.0}\n"
                                           "optimizer_config: {}\nlr: &lr 0.001\n")
    from mtdnn_core.config import load_train_config

    assert load_train_config(config).sampler_config == {"temperature": 2.0}


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "finished-run"
    run.mkdir()
    return run


def test_plot_of_a_log_that_is_not_utf8(ws, run_dir):
    record = json.dumps({"event": "train", "step": 1, "task": "pair", "loss": 0.5, "lr": 0.001})
    log = run_dir / "log.jsonl"
    log.write_bytes(record.encode() + b"\n" + b'{"event": "train", "task": "caf\xe9"}\n')
    before = log.read_bytes()
    ws.fails(["plot", run_dir], f"{log}:2: not UTF-8 (byte 0xe9")
    assert not (run_dir / "plots").exists() and log.read_bytes() == before


def test_plot_of_an_empty_log_says_there_is_nothing_to_plot(ws, run_dir):
    (run_dir / "log.jsonl").write_text("")
    ws.fails(["plot", run_dir], "nothing to plot", str(run_dir))
    assert not (run_dir / "plots").exists()
