"""Domain-adaptation readers, QNLI ranking, subsets, submission files, download, the recipe."""
import hashlib
import io
import json
import zipfile

import pytest
from click.testing import CliRunner

from mtdnn_core.api import DataError, Example, build_train_config, cli as main, deterministic_subset
from mtdnn_core.testing import real_data_dir
from mtdnn_glue.domain import qnli_to_ranking, read_scitail, read_snli
from mtdnn_glue.download import build_mrpc, fetch, safe_extract

GLUE = real_data_dir() / "glue"
SNLI_JSONL = (
    '{"annotator_labels": ["neutral"], "captionID": "1", "gold_label": "neutral", "pairID": "p1", '
    '"sentence1": "A person on a horse jumps over a broken down airplane.", "sentence1_binary_parse": "( x )", '
    '"sentence2": "A person is training his horse for a competition.", "sentence2_binary_parse": "( y )"}\n'
    '{"gold_label": "-", "pairID": "p2", "sentence1": "a", "sentence2": "b"}\n'
    '{"gold_label": "entailment", "pairID": "p3", "sentence1": "Kids smile.", "sentence2": "Children smile."}\n'
)
SNLI_TXT = ("gold_label\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\t"
            "sentence2\tcaptionID\tpairID\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\n"
            "contradiction\t( a )\t( b )\t(ROOT a)\t(ROOT b)\tA man sleeps.\tA man runs.\t1\tp9\tcontradiction\t\t\t\t\n"
            "-\t( a )\t( b )\t(ROOT a)\t(ROOT b)\tx\ty\t2\tp10\tneutral\t\t\t\t\n")


def test_snli_readers_both_formats(tmp_path):
    (tmp_path / "a.jsonl").write_text(SNLI_JSONL)
    rows, skipped = read_snli(tmp_path / "a.jsonl")
    assert [r[:2] for r in rows] == [("p1", "neutral"), ("p3", "entailment")] and skipped == 1
    (tmp_path / "a.txt").write_text(SNLI_TXT)
    rows, skipped = read_snli(tmp_path / "a.txt")
    assert rows == [("p9", "contradiction", "A man sleeps.", "A man runs.")] and skipped == 1


def test_scitail_reader_and_task_from_distributed_layout(tmp_path):
    data = tmp_path / "data"
    folder = data / "SciTailV1.1" / "tsv_format"
    folder.mkdir(parents=True)
    for split in ("train", "dev", "test"):
        (folder / f"scitail_1.0_{split}.tsv").write_text(
            "Pluto rotates once on its axis every 6.39 Earth days.\tEarth rotates on its axis once every 24 hours.\tneutral\n"
            "Photosynthesis makes sugar.\tPlants make sugar by photosynthesis.\tentails\n")
    assert read_scitail(folder / "scitail_1.0_dev.tsv")[1][1] == "entails"
    with pytest.raises(DataError, match="expected 3"):
        (tmp_path / "bad.tsv").write_text("a\tb\n")
        read_scitail(tmp_path / "bad.tsv")
    result = CliRunner().invoke(main, ["train", "--plugin", "glue", "--data-dir", str(data), "--tasks", "scitail",
                                       "--encoder", "tiny-random-bert", "--epochs", "1", "--max-seq-len", "32",
                                       "--output-dir", str(tmp_path / "run"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "scitail_dev" in result.output


def test_qnli_ranking_transform(tmp_path):
    canonical = tmp_path / "qnli_dev.tsv"
    canonical.write_text("1\tnot_entailment\tWho?\tA.\n2\tentailment\tWho?\tB.\n3\tentailment\tWhy?\tC.\n"
                         "4\tentailment\tWhat?\tD.\n5\tentailment\tWhat?\tE.\n")
    counts = qnli_to_ranking(canonical, tmp_path / "r.tsv")
    assert counts == {"questions": 3, "samples": 1, "too_few_candidates": 1, "not_one_positive": 1}
    assert (tmp_path / "r.tsv").read_text() == "q0\t1,2\t1\tWho?\tA.\tB.\n"


@pytest.mark.real_data("glue")
def test_qnli_ranking_on_real_dev_and_training(tmp_path):
    result = CliRunner().invoke(main, ["train", "--plugin", "glue", "--data-dir", str(GLUE), "--tasks", "qnnli",
                                       "--encoder", "tiny-random-bert", "--epochs", "0", "--max-eval-samples", "64",
                                       "--max-seq-len", "48", "--output-dir", str(tmp_path), "--no-progress"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "data" / "qnnli" / "qnnli_dev.tsv.report.json").read_text())
    assert report["questions"] == 4100 and report["samples"] == 1362  # questions with >= 2 candidates, one positive
    scores = json.loads((tmp_path / "scores" / "qnnli_dev.initial.json").read_text())
    assert len(scores["predictions"]) == 64 and 0 <= scores["metrics"]["accuracy"] <= 100


def test_subsets_are_deterministic_nested_and_sized():
    features = [Example(uid=str(i), label=0) for i in range(10000)]
    small, medium = deterministic_subset(features, 0.001), deterministic_subset(features, 0.01)
    assert len(small) == 10 and len(medium) == 100 and len(deterministic_subset(features, 0.1)) == 1000
    assert {f.uid for f in small} <= {f.uid for f in medium}
    assert deterministic_subset(list(reversed(features)), 0.01) == sorted(medium, key=lambda f: -int(f.uid))
    config = build_train_config({"tasks": ["scitail_001", "snli_1", "rte"]})
    assert config.tasks == ["scitail", "snli", "rte"] and config.train_fraction == {"scitail": 0.001, "snli": 0.1}


@pytest.mark.real_data("glue")
def test_mrpc_rebuilt_byte_for_byte_from_the_microsoft_files(tmp_path):
    for name in ("msr_paraphrase_train.txt", "dev_ids.tsv"):
        (tmp_path / name).write_bytes((GLUE / "MRPC" / name).read_bytes())
    assert build_mrpc(tmp_path) == {"train": 3668, "dev": 408}
    assert (tmp_path / "train.tsv").read_bytes() == (GLUE / "MRPC" / "train.tsv").read_bytes()
    assert (tmp_path / "dev.tsv").read_bytes() == (GLUE / "MRPC" / "dev.tsv").read_bytes()


@pytest.mark.real_data("glue")
def test_submission_files_follow_the_glue_format(tmp_path):
    run = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", "--plugin", "glue", "--data-dir", str(GLUE), "--tasks", "rte,stsb,cola",
                                       "--encoder", "tiny-random-bert", "--epochs", "1", "--max-train-samples", "32",
                                       "--max-seq-len", "32", "--output-dir", str(run), "--no-progress"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["glue", "submit", str(run), "--out", str(tmp_path / "sub")])
    assert result.exit_code == 0, result.output
    rte = (tmp_path / "sub" / "RTE.tsv").read_text().splitlines()
    assert rte[0] == "index\tprediction" and len(rte) == 3001
    assert {line.split("\t")[1] for line in rte[1:]} <= {"entailment", "not_entailment"}
    assert [line.split("\t")[0] for line in rte[1:4]] == ["0", "1", "2"]
    sts = [float(line.split("\t")[1]) for line in (tmp_path / "sub" / "STS-B.tsv").read_text().splitlines()[1:]]
    assert len(sts) == 1379 and all(0 <= v <= 5 for v in sts)
    cola = (tmp_path / "sub" / "CoLA.tsv").read_text().splitlines()
    assert len(cola) == 1064 and {line.split("\t")[1] for line in cola[1:]} <= {"0", "1"}
    with zipfile.ZipFile(str(tmp_path / "sub") + ".zip") as archive:
        assert sorted(archive.namelist()) == ["CoLA.tsv", "RTE.tsv", "STS-B.tsv"]


@pytest.fixture
def server(file_server):
    return file_server.root, file_server.url


def rte_zip(extra: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("RTE/train.tsv", "index\tsentence1\tsentence2\tlabel\n0\tA dog barks.\tAn animal barks.\tentailment\n")
        archive.writestr("RTE/dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\tA cat sleeps.\tA cat runs.\tnot_entailment\n")
        for name, text in (extra or {}).items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_download_verifies_extracts_and_is_usable(server, tmp_path):
    root, url = server
    data = rte_zip()
    (root / "RTE.zip").write_bytes(data)
    (root / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  RTE.zip\n")
    target = tmp_path / "glue"
    result = CliRunner().invoke(main, ["glue", "download", "--tasks", "rte", "--target", str(target), "--mirror", url])
    assert result.exit_code == 0, result.output
    assert (target / "RTE" / "train.tsv").is_file() and "RTE.zip" in (target / "SHA256SUMS").read_text()


def test_corrupted_download_is_rejected_and_removed(server, tmp_path):
    root, url = server
    data = rte_zip()
    (root / "RTE.zip").write_bytes(data[:-10] + b"0123456789")
    (root / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  RTE.zip\n")
    result = CliRunner().invoke(main, ["glue", "download", "--tasks", "rte", "--target", str(tmp_path / "g"), "--mirror", url])
    assert result.exit_code == 2 and "checksum mismatch" in result.output
    assert not (tmp_path / "g" / "RTE").exists() and not list((tmp_path / "g" / ".downloads").glob("RTE.zip*"))


def test_path_traversal_archive_is_refused(server, tmp_path):
    root, url = server
    (root / "RTE.zip").write_bytes(rte_zip({"../../evil.txt": "owned"}))
    target = tmp_path / "deep" / "glue"
    result = CliRunner().invoke(main, ["glue", "download", "--tasks", "rte", "--target", str(target), "--mirror", url])
    assert result.exit_code == 2 and "refusing to extract '../../evil.txt'" in result.output
    assert not (tmp_path / "evil.txt").exists() and not (target / "RTE").exists()
    with pytest.raises(DataError, match="refusing"):
        bad = tmp_path / "abs.zip"
        bad.write_bytes(rte_zip({"/tmp/abs-evil.txt": "x"}))
        safe_extract(bad, tmp_path / "out")


def test_partial_download_resumes_with_a_range_request(server, tmp_path, file_server):
    root, url = server
    data = rte_zip() * 3
    (root / "big.bin").write_bytes(data)
    target = tmp_path / "big.bin"
    (tmp_path / "big.bin.part").write_bytes(data[:1000])
    fetch(f"{url}/big.bin", target, hashlib.sha256(data).hexdigest())
    assert target.read_bytes() == data
    assert file_server.requests[-1] == ("/big.bin", "bytes=1000-")


@pytest.mark.slow  # about 20 s
@pytest.mark.real_data("glue")
def test_recipe_end_to_end_on_real_rows(tmp_path):
    out = tmp_path / "recipe"
    result = CliRunner().invoke(main, [
        "glue", "recipe", "--data-dir", str(GLUE), "--tasks", "rte,stsb", "--out", str(out), "--encoder", "tiny-random-bert",
        "--refine-epochs", "1", "--finetune-epochs", "2", "--max-train-samples", "160", "--max-eval-samples", "64",
        "--max-seq-len", "48", "--lr", "1e-3", "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    assert set(results["table"]) == {"rte", "stsb"} and results["table"]["rte"]["metric"] == "accuracy"
    assert len(results["stages"]["recipe"]["rte"]) == 2 and len(results["stages"]["baseline"]["stsb"]) == 2
    assert (out / "results.md").read_text().startswith("| task | metric | single-task |")
    assert (out / "plots" / "rte.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "refined-encoder" / "config.json").is_file()
    scored = {p.name.split(".")[0] for p in out.rglob("scores/*.json")}
    assert scored == {"rte_dev", "stsb_dev"}  # test sets are not scored


@pytest.mark.real_data("glue")
def test_san_trains_under_bf16_autocast(tmp_path):
    """The original switched SAN off for fp16 instability; ours trains in bf16 without a skipped step."""
    out = tmp_path / "san"
    result = CliRunner().invoke(main, [
        "train", "--plugin", "glue", "--data-dir", str(GLUE), "--tasks", "rte", "--encoder", "tiny-random-bert",
        "--precision", "bf16", "--epochs", "2", "--max-train-samples", "96", "--max-eval-samples", "32",
        "--batch-size", "16", "--max-seq-len", "64", "--lr", "1e-3", "--output-dir", str(out), "--no-progress",
        "--log-every", "1",
    ])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["nonfinite_skipped"] == 0 and summary["step"] == 12
    losses = [json.loads(line)["loss"] for line in (out / "log.jsonl").read_text().splitlines() if '"train"' in line]
    assert len(losses) == 12 and all(0 < x < 5 for x in losses)
    state = json.loads((next(out.glob("checkpoint-*")) / "state.json").read_text())
    assert state["task_defs"]["rte"]["head"] == "san"


def test_adaptation_sweep_writes_a_table(tmp_path):
    out = tmp_path / "adapt"
    result = CliRunner().invoke(main, [
        "glue", "adapt", "--task", "rte", "--data-dir", "glue:sample", "--fractions", "0.1,1", "--epochs", "1",
        "--encoder", "tiny-random-bert", "--max-seq-len", "32", "--out", str(out), "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "adaptation.json").read_text())["rows"]
    assert [r["dataset"] for r in rows] == ["rte_1", "rte"] and [r["train_rows"] for r in rows] == [24, 240]
    assert "| rte_1 | 10.0% | 24 |" in (out / "adaptation.md").read_text()
