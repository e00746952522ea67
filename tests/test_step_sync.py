"""A training step reads nothing back from the device: the non-finite checks, the running loss
and the counters stay on the device until a log record needs them (fused AdamW skips a bad
update itself). Host reads are counted as ``aten._local_scalar_dense`` calls (what ``float()``,
``bool()`` and ``.item()`` of a tensor dispatch to; on a GPU each waits for the queued kernels)."""
import json
import traceback

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from mtdnn_core.errors import TrainingDiverged
from mtdnn_core.testing import make_host, nan_loss_plugin, nan_loss_task_file
from mtdnn_core.training.trainer import Trainer


class HostReads(TorchDispatchMode):
    """Counts device-to-host scalar reads, except transformers' own check whether an attention
    mask has padding (one per encoder forward in eager mode; none when compiled)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.overloadpacket is torch.ops.aten._local_scalar_dense:
            if not any("transformers/masking_utils.py" in frame.filename for frame in traceback.extract_stack()):
                self.count += 1
        return func(*args, **(kwargs or {}))


def _rte_config(tiny_train_config, glue_dir, tmp_path, **overrides):
    canonical = tmp_path / "canon"
    canonical.mkdir(parents=True, exist_ok=True)
    rows = [line.split("\t") for line in (glue_dir / "RTE" / "train.tsv").read_text().splitlines()[1:49]]
    (canonical / "rte_train.tsv").write_text("".join(f"{i}\t{label}\t{a}\t{b}\n" for i, a, b, label in rows))
    return tiny_train_config(task_def=[nan_loss_task_file(tmp_path)], data_dir=str(canonical), tasks=["rte"],
                             max_eval_samples=8, **overrides)


def _count_step_reads(trainer):
    """Wrap the three per-step methods and count the host reads inside them."""
    counter, calls = HostReads(), {"updates": 0}
    for name in ("forward_loss", "backward", "update"):
        original = getattr(trainer, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls["updates"] += _name == "update"
            with counter:
                return _original(*args, **kwargs)

        setattr(trainer, name, counted)
    return counter, calls


@pytest.mark.parametrize("fused", [True, False])
def test_a_step_reads_nothing_from_the_device_with_fused_adamw(tiny_train_config, glue_dir, tmp_path, fused):
    config = _rte_config(tiny_train_config, glue_dir, tmp_path, optimizer_config={"fused": fused}, log_every=100,
                         grad_clip=1.0)
    trainer = Trainer(config, make_host(nan_loss_plugin(set())), progress=False)
    assert trainer.device_checks is fused
    counter, calls = _count_step_reads(trainer)
    trainer.train()
    assert calls["updates"] == 6
    if fused:
        assert counter.count == 0
    else:  # host checks of the loss and the gradient norm each update (plus plain AdamW's step counters on the CPU)
        assert counter.count >= 2 * calls["updates"]


def test_device_checks_skip_bad_updates_and_count_them(tiny_train_config, glue_dir, tmp_path):
    config = _rte_config(tiny_train_config, glue_dir, tmp_path, optimizer_config={"fused": True})
    trainer = Trainer(config, make_host(nan_loss_plugin({2, 3})), progress=False)
    summary = trainer.train()
    assert summary["nonfinite_skipped"] == 2
    assert trainer.step == 6  # a skipped update still counts (the schedule moves on, as with GradScaler)
    # ... but the optimizer did not update: fused AdamW took 4 steps, not 6
    steps = {float(state["step"]) for state in trainer.optimizer.state.values()}
    assert steps == {4.0}
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    train = [r for r in log if r["event"] == "train"]
    assert train[-1]["nonfinite_skipped"] == 2 and all(r["loss"] > 0 for r in train)


def test_device_checks_stop_a_diverged_run(tiny_train_config, glue_dir, tmp_path):
    config = _rte_config(tiny_train_config, glue_dir, tmp_path, optimizer_config={"fused": True},
                         max_nonfinite_in_row=3, log_every=1)
    always = Trainer(config, make_host(nan_loss_plugin(set(range(1, 100)))), progress=False)
    with pytest.raises(TrainingDiverged, match="3 non-finite loss or gradient values in a row.*lower --lr"):
        always.train()


def test_fused_and_plain_adamw_train_alike(tiny_train_config, glue_dir, tmp_path):
    """The device-checked path changes how a step is checked, not what it computes."""
    weights = []
    for fused in (False, True):
        config = _rte_config(tiny_train_config, glue_dir, tmp_path / str(fused), optimizer_config={"fused": fused},
                             output_dir=str(tmp_path / str(fused) / "run"))
        trainer = Trainer(config, make_host(nan_loss_plugin(set())), progress=False)
        trainer.train()
        weights.append({k: v.clone() for k, v in trainer.model.state_dict().items()})
    for key in weights[0]:
        torch.testing.assert_close(weights[0][key], weights[1][key], rtol=1e-4, atol=1e-5, msg=key)


@pytest.mark.slow  # torch.compile of the encoder: about 20 s
def test_compiled_encoder_trains_like_the_eager_one(tiny_train_config, glue_dir, tmp_path):
    """--compile (torch.compile of the encoder, in place) on the CPU: the same losses and weights
    as eager within float tolerance, over batches of different lengths; checkpoints keep the
    eager parameter names. Dropout is off: compiled code draws its dropout masks differently."""
    from safetensors.torch import load_file

    from torch._dynamo.utils import counters

    counters.clear()
    runs = {}
    for compiled in (False, True):
        out = tmp_path / f"compiled-{compiled}"
        config = _rte_config(tiny_train_config, glue_dir, out, compile=compiled, output_dir=str(out / "run"), log_every=1,
                             max_steps=3, encoder_config={"dropout": 0.0},
                             task_overrides={"rte": {"dropout_p": 0.0}})
        trainer = Trainer(config, make_host(nan_loss_plugin(set())), progress=False)
        trainer.train()
        log = [json.loads(line) for line in (out / "run" / "log.jsonl").read_text().splitlines()]
        runs[compiled] = ([r["loss"] for r in log if r["event"] == "train"],
                          load_file(next((out / "run").glob("checkpoint-*")) / "model.safetensors"))
    # one graph for the first length, one with a symbolic length for the rest (training), one for evaluation
    assert 1 <= counters["frames"]["ok"] <= 4, dict(counters["frames"])
    (eager_losses, eager_weights), (compiled_losses, compiled_weights) = runs[False], runs[True]
    assert len(eager_losses) == 3
    assert compiled_losses == pytest.approx(eager_losses, rel=1e-4)
    assert compiled_weights.keys() == eager_weights.keys()
    for key in eager_weights:
        torch.testing.assert_close(compiled_weights[key], eager_weights[key], rtol=1e-3, atol=1e-4, msg=key)


def test_the_tally_keeps_each_updates_finite_losses_for_step_observers():
    from mtdnn_core.training.tally import StepTally

    tally = StepTally(torch.device("cpu"))
    tally.keep_update_loss = True
    for value in (1.0, float("nan"), 3.0):  # one update of three micro-batches, the second not finite
        loss = torch.tensor(value)
        tally.add("rte", loss, torch.isfinite(loss))
    tally.end_update(torch.tensor(False))
    assert tally.update_loss.tolist() == [4.0, 2.0]  # sum of the finite losses, their count: mean 2.0
    tally.add("rte", torch.tensor(float("inf")), torch.tensor(False))
    tally.end_update(torch.tensor(True))
    assert tally.update_loss.tolist() == [0.0, 0.0]  # nothing finite: the observer gets NaN
    settled = tally.settle()  # the log record's numbers are unchanged by it
    assert settled.loss == 2.0 and settled.nonfinite == 2
