"""``mtdnn export`` of an HNN head: custom code plus its own pipeline, which scores and chooses
every candidate as ``mtdnn predict`` does."""
import json

import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli as main
from mtdnn_core.testing import real_data_dir

HNN = real_data_dir() / "hnn"


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.real_data("hnn")
def test_hnn_export_chooses_as_mtdnn_predict(tmp_path, tiny_mlm):
    from transformers import AutoModel, pipeline

    from mtdnn_hnn.readers import read_schemas

    run, export = tmp_path / "run", tmp_path / "export"
    invoke("train", "--plugin", "hnn", "--data-dir", HNN, "--tasks", "dprd", "--encoder", tiny_mlm,
           "--max-train-samples", 8, "--max-eval-samples", 4, "--output-dir", run, "--epochs", "1", "--batch-size", "4",
           "--lr", "1e-3", "--num-threads", "1", "--no-progress")
    output = invoke("export", run, "--task", "dprd", export)
    assert "'dprd' has no transformers class (head 'hnn'" in output
    lines = (HNN / "DPRD" / "test_annotated.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    data = tmp_path / "dprd_test.tsv"
    data.write_text("".join(lines[:81]), encoding="utf-8")  # the header and 80 real rows
    invoke("predict", "--checkpoint", run, "--task", "dprd", "--data", data, "--output", tmp_path / "p.json",
           "--device", "cpu")
    ours = json.loads((tmp_path / "p.json").read_text())
    with pytest.raises(ValueError, match="trust_remote_code"):
        AutoModel.from_pretrained(export)
    resolve = pipeline("pronoun-resolution", model=str(export), trust_remote_code=True, device="cpu")
    schemas = read_schemas(data)
    answers = resolve([{"sentence": s.sentence, "pronoun": s.pronoun, "pronoun_start": s.pronoun_start,
                        "candidates": s.candidates} for s in schemas])
    assert len(answers) == len(ours["predictions"]) == 80
    assert [a["answer"] for a in answers] == ours["predictions"]
    assert [a["lm_index"] for a in answers] == [s["choices"]["lm"] for s in ours["scores"]]
    assert [a["sim_index"] for a in answers] == [s["choices"]["sim"] for s in ours["scores"]]
    for answer, score in zip(answers, ours["scores"]):
        for scorer in ("hybrid", "lm", "sim"):
            assert answer["scores"][scorer] == pytest.approx(score[scorer], abs=1e-5)
    # the pronoun found by itself when its offset is not given (its first whole-word occurrence)
    first = schemas[0]
    assert first.sentence.index(f" {first.pronoun} ") + 1 == first.pronoun_start
    alone = resolve({"sentence": first.sentence, "pronoun": first.pronoun, "candidates": first.candidates})
    assert alone["answer"] == ours["predictions"][0]
    with pytest.raises(ValueError, match="takes schemas only, not top_k"):
        resolve({"sentence": first.sentence, "pronoun": first.pronoun, "candidates": first.candidates}, top_k=2)
    card = (export / "README.md").read_text(encoding="utf-8")
    assert '`pipeline("pronoun-resolution", model=OUT_DIR, trust_remote_code=True)`' in card
