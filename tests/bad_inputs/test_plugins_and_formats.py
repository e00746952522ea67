"""Broken plugins, CoNLL files and GLUE submissions."""
import json
import os
import subprocess
import sys

from click.testing import CliRunner

from mtdnn_core.cli import main


def test_strict_mode_help_with_a_broken_plugin_is_a_message(ws, tmp_path):
    dist = tmp_path / "brokenplugin-0.1.dist-info"
    ws.write(dist / "METADATA", "Metadata-Version: 2.1\nName: brokenplugin\nVersion: 0.1\n")
    ws.write(dist / "entry_points.txt", "[mtdnn]\nbroken = brokenplugin_module\n")
    ws.write(tmp_path / "brokenplugin_module.py", "raise ImportError('this plugin is broken on purpose')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MTDNN_STRICT_PLUGINS": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "mtdnn_core.cli", "--help"], env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "plugin 'broken' (brokenplugin 0.1) failed" in result.stderr and "broken on purpose" in result.stderr
    env["MTDNN_STRICT_PLUGINS"] = "0"  # not strict: the rest of the CLI works, the plugin is reported
    result = subprocess.run([sys.executable, "-m", "mtdnn_core.cli", "plugins"], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and "broken (brokenplugin 0.1)  FAILED: ImportError: this plugin is broken" in result.stdout


def conll(ws, tmp_path, text, binary=False):
    data = tmp_path / "conll"
    ws.write(data / "train.txt", text, binary=binary)
    return ["train", "--plugin", "ner", "--data-dir", str(data), "--tasks", "ner", "--encoder", "tiny-random-bert",
            "--max-seq-len", "32", "--epochs", "1", "--output-dir", str(tmp_path / "run"), "--no-progress"], data / "train.txt"


def test_conll_wrong_columns(ws, tmp_path):
    args, path = conll(ws, tmp_path, "EU NNP B-NP B-ORG\nrejects VBZ O\n")
    ws.fails(args, f"{path}:2: 3 column(s), expected 4")


def test_conll_bad_tag_points_at_its_own_line(ws, tmp_path):
    args, path = conll(ws, tmp_path, "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP X-MISC\n")
    ws.fails(args, f"{path}:3: tag 'X-MISC' is not O or PREFIX-TYPE")
    args, path = conll(ws, tmp_path, "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-FOO\n")
    ws.fails(args, f"{path}:3: unknown tag 'B-FOO'")


def test_conll_not_utf8(ws, tmp_path):
    args, path = conll(ws, tmp_path, "EU NNP B-NP B-ORG\ncaf\xe9 NN B-NP O\n".encode("latin-1"), binary=True)
    ws.fails(args, f"{path}:2: not UTF-8 (byte 0xe9")


def test_conll_bom_before_docstart_adds_no_sentence(ws, tmp_path):
    from mtdnn_ner.conll import read_conll

    path = ws.write(tmp_path / "x.txt", "\ufeff-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\n")
    assert [s.column(0) for s in read_conll(path)] == [["EU"]]


def test_glue_submission_from_a_cut_test_set(ws, tmp_path, glue_dir):
    run = tmp_path / "glue-run"
    (run / "scores").mkdir(parents=True)
    ws.write(run / "scores" / "rte_test.epoch0.json", json.dumps({"uids": ["0", "1"], "predictions": ["entailment"] * 2}))
    ws.write(run / "metrics.json", json.dumps([{"tag": "epoch0", "step": 1}]))
    ws.fails(["glue", "submit", str(run), "--out", str(tmp_path / "sub")], "rte_test.epoch0.json: 2 predictions",
             "has 3000 rows", "--max-eval-samples")
    assert not (tmp_path / "sub" / "RTE.tsv").exists()


def test_glue_conversion_follows_a_new_data_dir(ws, tmp_path, glue_dir):
    """The same --output-dir with another --data-dir: the new files are converted, not the old reused."""
    small = tmp_path / "small"
    (small / "RTE").mkdir(parents=True)
    lines = (glue_dir / "RTE" / "train.tsv").read_text(encoding="utf-8").splitlines()
    ws.write(small / "RTE" / "train.tsv", "\n".join(lines[:41]) + "\n")
    ws.write(small / "RTE" / "dev.tsv", "\n".join(lines[:21]) + "\n")
    out = tmp_path / "run"
    common = ["train", "--plugin", "glue", "--tasks", "rte", "--encoder", "tiny-random-bert", "--max-seq-len", "16",
              "--epochs", "0", "--output-dir", str(out), "--no-progress", "--max-eval-samples", "4"]
    assert CliRunner().invoke(main, [*common, "--data-dir", str(small)]).exit_code == 0
    assert len((out / "data" / "glue" / "rte_train.tsv").read_text().splitlines()) == 40
    result = CliRunner().invoke(main, [*common, "--data-dir", str(glue_dir), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert len((out / "data" / "glue" / "rte_train.tsv").read_text().splitlines()) == 2490
