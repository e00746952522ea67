"""Damaged checkpoints and resumes that cannot be exact: one clear message naming the file."""
import json
import shutil



def predict(run, ws):
    return ["predict", "--checkpoint", run, "--task", "pair", "--data", ws.data / "pair_dev.tsv", "--output", ws.root / "p.json"]


def resume(run, ws, *extra):
    """The run's own settings (its config.json) plus ``extra``, resumed from ``run``."""
    directory = run if (run / "config.json").is_file() else run.parent
    return ["train", "--config", directory / "config.json", "--output-dir", directory, "--resume", run, "--no-progress", *extra]


def test_truncated_weights(run_copy, ws):
    path = ws.checkpoint_of(run_copy) / "model.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    ws.fails(predict(run_copy, ws), f"{path}: not a readable safetensors file", "truncated or damaged")


def test_empty_weights(run_copy, ws):
    path = ws.checkpoint_of(run_copy) / "model.safetensors"
    path.write_bytes(b"")
    ws.fails(predict(run_copy, ws), f"{path}: not a readable safetensors file")


def test_weights_of_another_encoder(run_copy, ws, tmp_path):
    from safetensors.torch import load_file, save_file

    path = ws.checkpoint_of(run_copy) / "model.safetensors"
    weights = load_file(path)
    weights = {k: (v[:, :16].contiguous() if v.dim() == 2 and v.shape[1] == 32 else v) for k, v in weights.items()}
    save_file(weights, path)
    ws.fails(predict(run_copy, ws), f"{path}: the weights do not fit this model")


def test_truncated_state_json(run_copy, ws):
    path = ws.checkpoint_of(run_copy) / "state.json"
    path.write_text(path.read_text()[:50])
    ws.fails(predict(path.parent, ws), f"{path}: damaged")


def test_edited_state_json(run_copy, ws):
    path = ws.checkpoint_of(run_copy) / "state.json"
    meta = json.loads(path.read_text())
    meta["step"] = "three"
    del meta["config"]
    path.write_text(json.dumps(meta))
    ws.fails(predict(path.parent, ws), f"{path}: missing or invalid field(s) step, config")


def test_missing_encoder_directory(run_copy, ws):
    shutil.rmtree(ws.checkpoint_of(run_copy) / "encoder")
    ws.fails(predict(ws.checkpoint_of(run_copy), ws), "encoder: missing", "incomplete")


def test_missing_training_state_on_resume(run_copy, ws):
    path = ws.checkpoint_of(run_copy) / "trainer_state.pt"
    path.unlink()
    ws.run_existed = True
    ws.fails(resume(ws.checkpoint_of(run_copy), ws), f"{path}: missing; this checkpoint can be used for prediction but not to resume")


def test_truncated_training_state_on_resume(run_copy, ws):
    path = ws.checkpoint_of(run_copy) / "trainer_state.pt"
    path.write_bytes(path.read_bytes()[:200])
    ws.run_existed = True
    ws.fails(resume(ws.checkpoint_of(run_copy), ws), f"{path}: damaged", "resume from another checkpoint")


def test_resume_with_changed_settings_is_refused_and_listed(run_copy, ws):
    ws.run_existed = True
    output = ws.fails(resume(run_copy, ws, "--lr", "0.5", "--batch-size", "4"), "lr: 5e-05 -> 0.5", "batch_size: 8 -> 4")
    assert "would not continue the run exactly" in output and "eval_every" in output  # what may change


def test_resume_from_nothing(ws):
    ws.fails(ws.train("pair", "--resume", ws.root / "nowhere"), "neither a checkpoint (no state.json) nor a run directory")


def test_a_run_directory_is_not_reused_silently(run_copy, ws):
    args = ws.train("pair")
    args[args.index("--output-dir") + 1] = str(run_copy)
    ws.run_existed = True
    ws.fails(args, f"--output-dir {run_copy}: already holds a run", "--resume", "--overwrite")


def test_latest_pointing_at_nothing_falls_back_with_a_warning(run_copy, ws, tmp_path):
    from click.testing import CliRunner

    from mtdnn_core.cli import main

    named = ws.checkpoint_of(run_copy)
    shutil.rmtree(named)
    result = CliRunner().invoke(main, [str(a) for a in predict(run_copy, ws)])
    assert result.exit_code == 0, result.output  # the newest complete checkpoint is used, and the user told
    ws.write(run_copy / "latest.json", "{broken")
    assert CliRunner().invoke(main, [str(a) for a in predict(run_copy, ws)]).exit_code == 0
    for checkpoint in run_copy.glob("checkpoint-*"):
        shutil.rmtree(checkpoint)
    ws.fails(predict(run_copy, ws), "no complete checkpoint is left")


def test_a_resume_by_another_number_of_processes_stops_before_the_encoder_loads(run_copy, ws, monkeypatch):
    import mtdnn_core.training.trainer as trainer_module

    checkpoint = ws.checkpoint_of(run_copy)
    meta = json.loads((checkpoint / "state.json").read_text())
    (checkpoint / "state.json").write_text(json.dumps({**meta, "world_size": 2}))  # as two torchrun ranks write it

    def no_encoder(*args, **kwargs):
        raise AssertionError("the encoder was loaded before the resume was checked")

    monkeypatch.setattr(trainer_module, "build_encoder", no_encoder)
    ws.run_existed = True
    ws.fails(resume(checkpoint, ws), f"{checkpoint}: written by 2 process(es), resumed by 1", "torchrun --nproc_per_node")
