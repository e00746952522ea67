"""``alum pretrain --output`` is new, empty or its own earlier output: never a directory of the
user's files, a training run, the encoder it starts from or a folder holding the corpus. The
refusals name the option and both paths, come before any model is loaded, and change nothing."""

from click.testing import CliRunner

from mtdnn_core.api import cli as main
from mtdnn_core.testing import snapshot_files as files_of


def refused(args, *pieces):
    result = CliRunner().invoke(main, ["alum", "pretrain", *map(str, args), "--steps", "1", "--device", "cpu", "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), repr(result.exception)
    for piece in pieces:
        assert str(piece) in result.output, f"{piece!r} not in:\n{result.output}"


def test_a_directory_of_other_files_is_refused(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("one sentence.\n\nanother one.\n")
    mine = tmp_path / "papers"
    mine.mkdir()
    (mine / "draft.tex").write_text("\\section{x}\n")
    (mine / "config.json").write_text('{"mine": true}\n')
    before = files_of(mine)
    for extra in ([], ["--overwrite"]):
        refused(["--corpus", corpus, "--output", mine, *extra], f"--output {mine}: not empty, and none of it is this command's "
                                                                  "earlier output (run, corpus, heldout_before.json, pretrain_summary.json)")
    assert files_of(mine) == before


def test_a_training_run_is_refused(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("one sentence.\n")
    run = tmp_path / "run"
    (run / "checkpoint-0000002").mkdir(parents=True)
    (run / "log.jsonl").write_text('{"step": 2}\n')
    (run / "latest.json").write_text('{"checkpoint": "checkpoint-0000002"}\n')
    before = files_of(run)
    refused(["--corpus", corpus, "--output", run, "--overwrite"], f"--output {run}: holds another run's files (log.jsonl, latest.json, checkpoint-*)")
    assert files_of(run) == before


def test_the_encoder_or_the_corpus_inside_the_output_is_refused(tmp_path):
    encoder = tmp_path / "encoder"
    encoder.mkdir()
    (encoder / "config.json").write_text('{"model_type": "bert"}\n')
    corpus = tmp_path / "data" / "corpus.txt"
    corpus.parent.mkdir()
    corpus.write_text("one sentence.\n")
    before = files_of(tmp_path)
    refused(["--encoder", encoder, "--corpus", corpus, "--output", encoder, "--overwrite"],
            f"--output {encoder} is the same path as the input --encoder {encoder}")
    refused(["--encoder", encoder, "--corpus", corpus, "--output", corpus.parent, "--overwrite"],
            f"--output {corpus.parent} contains the input --corpus {corpus}")
    assert files_of(tmp_path) == before


def test_an_earlier_pretraining_needs_resume_or_overwrite(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("one sentence.\n")
    out = tmp_path / "alum"
    out.mkdir()
    (out / "pretrain_summary.json").write_text('{"steps": 3}\n')
    refused(["--corpus", corpus, "--output", out], f"--output {out}: already holds this command's output (pretrain_summary.json)",
            "--resume", "--overwrite")
    assert (out / "pretrain_summary.json").read_text() == '{"steps": 3}\n'
