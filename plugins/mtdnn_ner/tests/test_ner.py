"""NER plugin: readers, schemes, windows, CRF, metrics (against seqeval), end to end."""
import itertools
import json

import pytest
import torch
from click.testing import CliRunner

from mtdnn_core.api import DataError, SequenceLabeling, WordStitcher, cli as main, encode_file
from mtdnn_core.testing import real_data_dir
from mtdnn_core.testing import make_host
from mtdnn_ner import plugin
from mtdnn_ner.conll import read_conll
from mtdnn_ner.crf import CRF, CRFHead
from mtdnn_ner.entities import report
from mtdnn_ner.formats import ConllColumn
from mtdnn_ner.schemes import convert
from mtdnn_ner.tasks import definitions

CONLL = real_data_dir() / "conll2003"
DEFS = definitions()


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.real_data("conll2003")
def test_readers_on_both_real_file_styles():
    iob1 = read_conll(CONLL / "eng.testa")
    iob2 = read_conll(CONLL / "valid.txt")
    assert len(iob1) == len(iob2) == 3250  # published sentence count, -DOCSTART- excluded
    assert iob1[0].column(0) == iob2[0].column(0)
    fmt = ConllColumn("CoNLL-NER", 3, True)
    a, b = fmt.read(CONLL / "eng.testa", DEFS["ner"]), fmt.read(CONLL / "valid.txt", DEFS["ner"])
    assert [e.label for e in a] == [e.label for e in b]  # IOB1 converted to IOB2 equals the IOB2 file


def test_docstart_trailing_blanks_and_missing_final_blank(tmp_path):
    path = write(tmp_path / "x.conll", "-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\n\n\n"
                                       "-DOCSTART- -X- O O\n\nPeter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER")
    sentences = read_conll(path)
    assert [s.column(0) for s in sentences] == [["EU", "rejects"], ["Peter", "Blackburn"]]
    assert sentences[1].line == 9


def test_bad_input_names_file_and_line(tmp_path):
    with pytest.raises(DataError, match=r"x.conll:2: 3 column\(s\), expected 4"):
        read_conll(write(tmp_path / "x.conll", "EU NNP I-NP I-ORG\nrejects VBZ O\n"))
    with pytest.raises(DataError, match="no sentences"):
        read_conll(write(tmp_path / "e.conll", "\n\n"))
    bad = write(tmp_path / "t.conll", "EU NNP I-NP I-ORG\nrejects VBZ I-VP B-FOO\n")
    with pytest.raises(DataError, match=r"t.conll:2: unknown tag 'B-FOO' .* known tags: O, B-PER"):
        ConllColumn("CoNLL-NER", 3, True).read(bad, DEFS["ner"])


def test_scheme_conversions_round_trip():
    iob1 = ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG", "O"]
    iob2 = ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG", "O"]
    bioes = ["B-PER", "E-PER", "S-PER", "O", "S-LOC", "S-ORG", "O"]
    assert convert(iob1, "iob1", "iob2") == iob2
    assert convert(iob2, "iob2", "iob1") == iob1
    assert convert(iob2, "iob2", "bioes") == bioes
    assert convert(bioes, "bioes", "iob2") == iob2
    assert convert(iob2, "iob2", "iob2") == iob2
    with pytest.raises(DataError):
        convert(["X-PER"], "iob2", "bioes")


def test_windows_cover_every_word_exactly_once(tmp_path, tiny_tokenizer):
    words = [f"word{i}" if i % 3 else "x" for i in range(90)]  # 'wordN' splits into several pieces
    tags = ["B-PER" if i % 7 == 0 else "O" for i in range(90)]
    path = write(tmp_path / "long.conll", "".join(f"{w} NN B-NP {t}\n" for w, t in zip(words, tags)))
    feats = encode_file(path, DEFS["ner"], SequenceLabeling(), ConllColumn("CoNLL-NER", 3, True), tiny_tokenizer, max_len=32)
    assert len(feats) > 3 and all(len(feats[i]["input_ids"]) <= 32 for i in range(len(feats)))
    stitcher = WordStitcher()
    for i in range(len(feats)):  # "predict" each labelled position's gold tag
        f = feats[i]
        stitcher.add_row(f, torch.tensor([max(int(t), 0) for t in f["label"]]))
    out = stitcher.result()
    assert len(out["predictions"]) == 1 and len(out["predictions"][0]) == 90
    assert out["predictions"][0] == out["golds"][0]
    assert out["words"][0] == words


def test_crf_matches_brute_force_enumeration():
    torch.manual_seed(0)
    crf = CRF(3)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    emissions = torch.randn(1, 4, 3)
    mask = torch.tensor([[True, True, True, False]])  # three real words

    def path_score(path):
        s = crf.start[path[0]] + emissions[0, 0, path[0]]
        for t in range(1, 3):
            s = s + crf.transitions[path[t - 1], path[t]] + emissions[0, t, path[t]]
        return s + crf.end[path[2]]

    paths = list(itertools.product(range(3), repeat=3))
    scores = torch.stack([path_score(p) for p in paths])
    assert crf.log_partition(emissions, mask).item() == pytest.approx(torch.logsumexp(scores, 0).item(), rel=1e-5)
    tags = torch.tensor([[2, 0, 1, 0]])
    assert crf.score(emissions, tags, mask).item() == pytest.approx(path_score((2, 0, 1)).item(), rel=1e-5)
    assert tuple(crf.viterbi(emissions, mask)[0, :3].tolist()) == paths[int(scores.argmax())]


def test_crf_head_decodes_on_first_subtokens_only():
    task = DEFS["ner"]
    head = CRFHead(8, task, dropout=0.0).eval()
    hidden = torch.randn(2, 6, 8)
    batch = {"word_ids": torch.tensor([[-1, 0, 0, 1, -1, -1], [-1, 0, 1, 2, 2, -1]])}
    logits = head(hidden, batch)
    tags = head.decode(logits, batch)
    assert tags.shape == (2, 6) and tags[0, 2] == 0 and tags[0, 4] == 0  # non-first positions untouched
    labels = torch.tensor([[-100, 1, -100, 2, -100, -100], [-100, 0, 3, 4, -100, -100]])
    loss = head.task_loss(logits, labels, None)
    loss.backward()
    assert torch.isfinite(loss) and head.crf.transitions.grad.abs().sum() > 0


FIXTURES = [
    (["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "I-PER", "O", "I-LOC"]),
    (["O", "I-ORG", "I-ORG", "O", "B-MISC"], ["B-ORG", "I-ORG", "O", "O", "B-MISC"]),
    (["B-LOC", "B-LOC", "I-LOC", "O"], ["B-LOC", "I-LOC", "I-LOC", "O"]),
    (["B-PER", "I-LOC", "O"], ["B-PER", "I-PER", "O"]),
]


@pytest.mark.parametrize("strict", [False, True])
def test_entity_metrics_match_seqeval(strict):
    from seqeval.metrics import classification_report, f1_score
    from seqeval.scheme import IOB2

    golds = [g for g, _ in FIXTURES]
    preds = [p for _, p in FIXTURES]
    kwargs = {"mode": "strict", "scheme": IOB2} if strict else {}
    ours = report(golds, preds, strict=strict)
    assert ours["overall"]["f1"] == pytest.approx(100 * f1_score(golds, preds, **kwargs))
    theirs = classification_report(golds, preds, output_dict=True, zero_division=0, **kwargs)
    for kind in ("PER", "LOC", "ORG", "MISC"):
        assert ours[kind]["f1"] == pytest.approx(100 * theirs[kind]["f1-score"])
        assert ours[kind]["support"] == theirs[kind]["support"]


@pytest.mark.real_data("conll2003")
def test_end_to_end_train_predict_and_conll_outputs(tmp_path):
    train_dir = tmp_path / "conll"
    train_dir.mkdir()
    sentences = (CONLL / "train.txt").read_text().split("\n\n")
    (train_dir / "train.txt").write_text("\n\n".join(sentences[:300]) + "\n")
    (train_dir / "valid.txt").write_text("\n\n".join((CONLL / "valid.txt").read_text().split("\n\n")[:80]) + "\n")
    out = tmp_path / "run"
    result = CliRunner().invoke(main, [
        "train", "--plugin", "ner", "--data-dir", str(train_dir), "--tasks", "ner,pos", "--encoder", "tiny-random-bert",
        "--epochs", "1", "--batch-size", "16", "--max-seq-len", "32", "--lr", "1e-3", "--output-dir", str(out),
        "--no-progress", "--set", "task_overrides={ner: {head: crf}}",
    ])
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "scores" / "ner_dev.epoch0.json").read_text())
    words_in_file = [s for s in read_conll(train_dir / "valid.txt")]
    assert len(scores["predictions"]) == len(words_in_file)
    assert [len(p) for p in scores["predictions"]] == [len(s.rows) for s in words_in_file]  # one tag per word
    conll = read_conll(out / "scores" / "ner_dev.epoch0.conll")
    assert [s.column(0) for s in conll] == [s.column(0) for s in words_in_file]
    assert (out / "scores" / "ner_dev.epoch0.types.tsv").read_text().startswith("type\tprecision")
    # label a new CoNLL file (words only) with the checkpoint
    new = write(tmp_path / "new.conll", "John lives in Paris .\n".replace(" ", "\n") + "\n")
    result = CliRunner().invoke(main, ["predict", "--checkpoint", str(out), "--task", "ner", "--data", str(new),
                                       "--output", str(tmp_path / "new.json"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    labelled = read_conll(tmp_path / "new.conll")
    assert len(labelled[0].rows) == 5 and len(labelled[0].rows[0]) == 3  # word, gold '-', predicted


@pytest.mark.real_data("conll2003")
@pytest.mark.real_data("glue")
def test_glue_and_ner_tasks_train_together(tmp_path):
    glue = CONLL.parent / "glue"
    result = CliRunner().invoke(main, [
        "train", "--plugin", "ner", "--plugin", "glue", "--data-dir", f"ner={CONLL}", "--data-dir", str(glue),
        "--tasks", "ner,rte", "--encoder", "tiny-random-bert", "--epochs", "1", "--batch-size", "16",
        "--max-seq-len", "32", "--max-train-samples", "64", "--max-eval-samples", "32", "--output-dir", str(tmp_path / "o"),
        "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    assert "ner_dev" in result.output and "rte_dev" in result.output


def test_plugin_registers_its_components():
    host = make_host(plugin)
    assert {"ner", "pos", "chunk"} <= set(host.registries.tasks.names())
    assert "crf" in host.registries.heads and "SeqEval" in host.registries.metrics
