"""``--compile`` with SMART, PDR, Bregman and L2-SP: the perturbation's hook is traced with the
encoder, not added per pass, so the compiled encoder's graphs stop growing after the first
updates, and the compiled run computes what the eager one does."""
import json

import pytest
import torch
from torch._dynamo.utils import counters

from mtdnn_core.api import Trainer
from mtdnn_core.testing import make_host, write_tiny_tasks
from mtdnn_alum import plugin

UPDATES = 10


def train(tiny_train_config, tmp_path, compiled, regularizers):
    task_def, data = write_tiny_tasks(tmp_path / "tasks")
    out = tmp_path / f"run-{compiled}"
    # no dropout and row-keyed noise: compiled code draws random numbers differently from eager code
    config = tiny_train_config(task_def=[str(task_def)], data_dir=str(data), tasks=["pair"], output_dir=str(out),
                               compile=compiled, compile_backend="aot_eager", epochs=2, max_steps=UPDATES, log_every=1,
                               encoder_config={"dropout": 0.0}, task_overrides={"pair": {"dropout_p": 0.0}},
                               regularizers=regularizers)
    trainer = Trainer(config, make_host(plugin), progress=False)
    graphs, update = [], trainer.update

    def counted():
        done = update()
        graphs.append(counters["stats"]["unique_graphs"])
        return done

    trainer.update = counted
    trainer.train()
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return graphs, [r for r in log if r["event"] == "train"]


@pytest.mark.slow  # two short runs, one traced by torch.compile (aot_eager: no code generated)
@pytest.mark.parametrize("regularizers", [
    [{"name": "smart", "params": {"noise_draw": "row"}}],
    [{"name": "pdr", "params": {"noise_draw": "row", "steps": 2}}, {"name": "bregman"}, {"name": "l2sp"}],
], ids=["smart", "pdr+bregman+l2sp"])
def test_compiled_regularizers_stop_recompiling_and_train_like_eager(tiny_train_config, tmp_path, regularizers):
    # dynamo's caches and recompile counts are per process: code objects that other tests of the
    # same session compiled (transformers' forward wrappers) would count towards the limit here
    torch._dynamo.reset()
    counters.clear()
    graphs, compiled = train(tiny_train_config, tmp_path, True, regularizers)
    # the first epoch (6 updates): clean, ascent (a perturbation that needs a gradient) and adversarial
    # passes, each traced for the first batch's shapes, then once more with a symbolic batch size and
    # length; the evaluation after it adds one (no gradient, no dropout); none is added afterwards.
    # Under torch.compile's limit of 8 per function, past which it would fall back to eager code
    assert len(graphs) == UPDATES and graphs[-1] <= 7, graphs
    assert graphs[2:6] == [graphs[2]] * 4 and graphs[6:] == [graphs[6]] * (UPDATES - 6), graphs
    assert graphs[6] - graphs[5] <= 1, graphs
    assert not counters["unimplemented"], dict(counters["unimplemented"])
    _, eager = train(tiny_train_config, tmp_path, False, regularizers)
    names = [key for key in eager[0] if key.startswith("reg_") and "_" not in key[4:]]
    assert names == [f"reg_{r['name']}" for r in regularizers]
    for c, e in zip(compiled, eager, strict=True):
        assert c["loss"] == pytest.approx(e["loss"], rel=1e-4)
        for name in names:  # the perturbation reached the compiled encoder: the same terms as eager
            assert c[name] == pytest.approx(e[name], rel=1e-3, abs=1e-7), name
    assert eager[-1]["reg_" + regularizers[0]["name"]] > 0
