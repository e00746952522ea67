"""Masked-LM as a task type: corpus blocks, seeded masking, the tied head against transformers'
BertForMaskedLM, metrics by hand."""
import json
import math

import numpy as np
import pytest
import torch

from mtdnn_core.config import TaskDef
from mtdnn_core.data.corpus import TextCorpus, hold_out, locate_corpus, read_documents, word_blocks
from mtdnn_core.errors import DataError
from mtdnn_core.metrics import BUILTIN_METRICS
from mtdnn_core.task_types.masked_lm import IGNORE_INDEX, MaskedLM
from mtdnn_core.testing import real_data

TASK = TaskDef(name="mlm", task_type="masked_lm", data_format="MLM")
WHOLE_WORD = TaskDef(name="mlm", task_type="masked_lm", data_format="MLM", head_config={"whole_word": True, "mask_prob": 0.3})


@pytest.fixture(scope="module")
def corpus_rows(tiny_tokenizer, shared_data):
    fmt = TextCorpus()
    examples = fmt.read(real_data("mlm") / "mlm_train.json", TASK, MaskedLM())
    return fmt.encode(examples[:3], tiny_tokenizer, 64, TASK)


def test_word_blocks_cut_between_words_only():
    # tokens: "un" "##believ" "##able" | "story" | "tell" "##ing" (offsets: a word continues without a gap)
    offsets = [(0, 2), (2, 8), (8, 12), (13, 18), (19, 23), (23, 26)]
    assert word_blocks(offsets, 4) == [(0, 4), (4, 6)]
    assert word_blocks(offsets, 2) == [(0, 2), (2, 4), (4, 6)]  # a word longer than the budget is cut


def test_reader_errors_name_the_line(tmp_path):
    bad = tmp_path / "c.jsonl"
    bad.write_text('{"text": "fine"}\n{"title": "no text"}\n')
    with pytest.raises(DataError, match=r"c.jsonl:2: JSON line without a 'text'"):
        read_documents(bad)
    plain = tmp_path / "p.txt"
    plain.write_text("one document\n\nanother one\n")
    assert read_documents(plain) == [("1", "one document"), ("3", "another one")]


def test_reader_names_the_line_and_byte_of_text_that_is_not_utf8(tmp_path):
    latin = tmp_path / "l.txt"
    latin.write_bytes("fine\nna\xefve\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"l.txt:2: not UTF-8 \(byte 0xef at column 3\); .*iconv -f latin1"):
        read_documents(latin)


def test_blocks_fit_the_length_and_keep_the_text(corpus_rows, tiny_tokenizer):
    assert len(corpus_rows) > 10
    for row in corpus_rows:
        assert len(row["input_ids"]) <= 64
        assert row["segment_ids"][0] == -1 and row["segment_ids"][-1] == -1  # [CLS] ... [SEP]
        assert row["mask_id"] == tiny_tokenizer.mask_token_id and row["vocab_size"] == len(tiny_tokenizer)
    first = tiny_tokenizer.decode(corpus_rows[0]["input_ids"], skip_special_tokens=True)
    assert first.startswith("anarchism anarchism is an anti - authoritarian")


def test_held_out_paragraphs(tmp_path, shared_data):
    source = real_data("mlm") / "mlm_train.json"
    paragraphs = sum(len([p for p in text.split("\n") if p.strip()]) for _, text in read_documents(source))
    files = hold_out(source, tmp_path, "mlm")
    count = lambda path: sum(len([p for p in text.split("\n") if p.strip()]) for _, text in read_documents(path))  # noqa: E731
    assert count(files["dev"]) == paragraphs // 10 and count(files["train"]) == paragraphs - paragraphs // 10
    located = locate_corpus("mlm")(source.parent, tmp_path)
    assert set(located) == {"train", "dev"} and located["dev"].read_text() == files["dev"].read_text()


def test_masking_is_a_function_of_the_seed(corpus_rows):
    kind = MaskedLM()
    rows = corpus_rows[:8]
    first = kind.collate(rows, 0, seed=(1, 0, 5), task=TASK)
    again = kind.collate(rows, 0, seed=(1, 0, 5), task=TASK)
    other = kind.collate(rows, 0, seed=(1, 0, 6), task=TASK)
    assert torch.equal(first["input_ids"], again["input_ids"]) and torch.equal(first["mlm_labels"], again["mlm_labels"])
    assert not torch.equal(first["mlm_labels"], other["mlm_labels"])
    state = torch.random.get_rng_state()
    kind.collate(rows, 0, task=TASK)  # evaluation: a seed from the uids, the global generator untouched
    assert torch.equal(state, torch.random.get_rng_state())
    targets = first["mlm_labels"] != IGNORE_INDEX
    special = first["segment_ids"] < 0
    assert not (targets & special).any()  # never a special token or padding
    assert torch.equal(first["labels"], first["mlm_labels"][targets])
    share = targets.sum().item() / (~special).sum().item()
    assert 0.08 < share < 0.22  # 15% of the tokens


def test_masking_matches_transformers_collator(corpus_rows, tiny_tokenizer):
    from transformers import DataCollatorForLanguageModeling

    from mtdnn_core.task_types.masked_lm import batch_generator

    rows = corpus_rows[:4]
    batch = MaskedLM().collate(rows, 0, seed=(7,), task=TASK)
    reference = DataCollatorForLanguageModeling(tiny_tokenizer, mlm_probability=0.15)
    reference.generator = batch_generator((7,))
    original = torch.where(batch["mlm_labels"] != IGNORE_INDEX, batch["mlm_labels"], batch["input_ids"])
    inputs, labels = reference.torch_mask_tokens(original.clone(), special_tokens_mask=(batch["segment_ids"] < 0).long())
    assert torch.equal(labels, batch["mlm_labels"]) and torch.equal(inputs, batch["input_ids"])


def test_whole_word_masking_takes_every_piece_of_a_word(corpus_rows):
    batch = MaskedLM().collate(corpus_rows[:8], 0, seed=(3,), task=WHOLE_WORD)
    targets = batch["mlm_labels"] != IGNORE_INDEX
    for i, row in enumerate(corpus_rows[:8]):
        offsets = row["offsets"]
        for t in range(2, len(offsets) - 1):
            continues = offsets[t][0] == offsets[t - 1][1] and row["segment_ids"][t - 1] >= 0
            if continues:
                assert targets[i, t] == targets[i, t - 1]
    assert bool((batch["input_ids"][targets] == corpus_rows[0]["mask_id"]).all())  # whole words: always [MASK]


def test_head_equals_bert_for_masked_lm(tmp_path, tiny_tokenizer, corpus_rows):
    from transformers import AutoModel, BertConfig, BertForMaskedLM

    from mtdnn_core.model.mlm_head import MaskedLMHead
    from mtdnn_core.model.multitask import MultiTaskModel

    config = BertConfig(vocab_size=len(tiny_tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, hidden_act="gelu")
    torch.manual_seed(0)
    reference = BertForMaskedLM(config).eval()
    with torch.no_grad():
        reference.cls.predictions.bias.normal_()  # non-zero, to see it is taken over
    reference.save_pretrained(tmp_path / "bert-mlm")
    encoder = AutoModel.from_pretrained(tmp_path / "bert-mlm")
    model = MultiTaskModel(encoder, {"mlm": MaskedLMHead(32, TASK)}).eval()
    batch = MaskedLM().collate(corpus_rows[:4], 0, seed=(2,), task=TASK)
    with torch.no_grad():
        ours = model("mlm", batch)
        theirs = reference(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                           token_type_ids=batch["token_type_ids"]).logits[batch["mlm_labels"] != IGNORE_INDEX]
    assert ours.shape == (int(batch["labels"].numel()), len(tiny_tokenizer))
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
    # tied: the decoder is the word-embedding matrix itself
    with torch.no_grad():
        encoder.get_input_embeddings().weight.mul_(2.0)
        changed = model("mlm", batch)
    assert not torch.allclose(changed, ours)
    assert not any(name.startswith("heads.mlm.word_embeddings") for name, _ in model.named_parameters())


def test_metrics_by_hand():
    nll = np.array([0.5, 1.5, 1.0])
    golds, preds = np.array([3, 4, 5]), np.array([3, 0, 5])
    assert BUILTIN_METRICS["mlm_loss"][0](golds, preds, nll) == pytest.approx(1.0)
    assert BUILTIN_METRICS["perplexity"][0](golds, preds, nll) == pytest.approx(math.e)
    assert BUILTIN_METRICS["mlm_accuracy"][0](golds, preds, nll) == pytest.approx(200 / 3)
    assert not BUILTIN_METRICS["perplexity"][0].higher_is_better


def test_decoder_scores_are_negative_log_likelihoods(corpus_rows):
    kind = MaskedLM()
    batch = kind.collate(corpus_rows[:3], 0, seed=(4,), task=TASK)
    n = int(batch["labels"].numel())
    logits = torch.zeros(n, 10)
    logits[:, 0] = math.log(3.0)  # p(token 0) = 3 / 12 = 0.25 under a softmax over 10 classes
    batch["labels"] = torch.zeros(n, dtype=torch.long)
    decoder = kind.decoder(TASK, None)
    decoder.add(corpus_rows[:3], batch, logits)
    out = decoder.result()
    assert len(out["uids"]) == 3 and sum(len(s) for s in out["scores"]) == n
    golds, preds, scores = kind.metric_inputs(TASK, out)
    assert scores == pytest.approx([-math.log(0.25)] * n, abs=1e-5) and (preds == 0).all()
    json.dumps(out)  # score files are JSON
