"""Windows, offsets and answer labels on hand-built contexts (positions worked out by hand)."""
import numpy as np
import torch
import pytest

from mtdnn_core.api import DataError
from mtdnn_squad.decode import SpanDecoder
from mtdnn_squad.reader import Answer, SquadExample
from mtdnn_squad.settings import SpanSettings
from mtdnn_squad.windows import encode_windows

# 40 words the uncased WordPiece vocabulary keeps whole: one token each
WORDS = ("red green blue black white cat dog sun moon tree river stone house road city king queen bird fish horse "
         "apple bread milk salt rain snow wind fire water earth gold iron ship boat train car door window book pen").split()
CONTEXT = " ".join(WORDS)
QUESTION = "which word"  # two tokens: [CLS] which word [SEP] puts context token k of a window at 4 + (k - first)


def example(first_word: int, last_word: int | None, uid: str = "q") -> SquadExample:
    if last_word is None:
        return SquadExample(uid=uid, label=[], question=QUESTION, context=CONTEXT, is_impossible=True)
    start = len(" ".join(WORDS[:first_word])) + (1 if first_word else 0)
    answer = Answer(" ".join(WORDS[first_word : last_word + 1]), start)
    assert CONTEXT[answer.start : answer.end] == answer.text
    return SquadExample(uid=uid, label=[answer], question=QUESTION, context=CONTEXT, answers=[answer])


def windows(examples, max_len=24, stride=5, tokenizer=None):
    return encode_windows(examples, tokenizer, max_len, SpanSettings(doc_stride=stride, max_query_length=64))


def test_windows_overlap_by_the_stride(tiny_tokenizer):
    # 24 tokens - 3 special - 2 question = 19 context tokens per window; 5 shared -> windows start at words 0, 14, 28
    feats = windows([example(0, 0)], tokenizer=tiny_tokenizer)
    assert [f["window"] for f in feats] == [0, 1, 2]
    first_words = [CONTEXT[f["offset_starts"][4] : f["offset_ends"][4]] for f in feats]
    assert first_words == [WORDS[0], WORDS[14], WORDS[28]]
    assert all(len(f["input_ids"]) <= 24 for f in feats)
    for f in feats:  # offsets only on context tokens, CLS first
        context = [i for i, s in enumerate(f["segment_ids"]) if s == 1]
        assert [i for i, s in enumerate(f["offset_starts"]) if s >= 0] == context
        assert f["cls_index"] == 0 and f["input_ids"][0] == tiny_tokenizer.cls_token_id


def test_answer_crossing_a_window_boundary_is_labelled_only_where_it_is_whole(tiny_tokenizer):
    feats = windows([example(16, 20)], tokenizer=tiny_tokenizer)  # window 0 ends at word 18
    assert [f["label"] for f in feats] == [[0, 0], [4 + 16 - 14, 4 + 20 - 14], [0, 0]]


def test_answer_at_the_very_end_of_the_context(tiny_tokenizer):
    feats = windows([example(37, 39)], tokenizer=tiny_tokenizer)
    assert [f["label"] for f in feats] == [[0, 0], [0, 0], [4 + 37 - 28, 4 + 39 - 28]]
    last = feats[-1]
    assert last["label"][1] == len(last["input_ids"]) - 2  # the token before the final [SEP]


def test_unanswerable_and_unlabeled_questions(tiny_tokenizer):
    feats = windows([example(0, None, "no"), SquadExample(uid="u", label=None, question=QUESTION, context=CONTEXT)],
                    tokenizer=tiny_tokenizer)
    assert [(f["uid"], f["label"]) for f in feats] == [("no", [0, 0])] * 3 + [("u", None)] * 3
    assert feats[0]["gold"] == {"answers": []} and feats[3]["gold"] is None
    assert "context" in feats[0] and "context" not in feats[1]  # the context travels once per question


def test_unicode_and_odd_whitespace_map_back_to_the_original_text(tiny_tokenizer):
    context = "Zürich  is\u00a0in Switzerland.\n\tCafé naïve art —  1956"
    answer = Answer("Café naïve", context.index("Café"))
    question = SquadExample(uid="z", label=[answer], question="  what?", context=context, answers=[answer])
    settings = SpanSettings(doc_stride=16)
    (feat,) = encode_windows([question], tiny_tokenizer, 64, settings)
    start, end = feat["label"]
    assert context[feat["offset_starts"][start] : feat["offset_ends"][end]] == "Café naïve"
    # a model that is sure of exactly those tokens answers with the original characters
    logits = np.full((len(feat["input_ids"]), 2), -10.0)
    logits[start, 0] = logits[end, 1] = 10.0
    decoder = SpanDecoder(settings, allows_no_answer=False)
    decoder.add_window(feat, logits[:, 0], logits[:, 1])
    assert decoder.result()["predictions"] == ["Café naïve"]


def test_questions_are_cut_to_max_query_length(tiny_tokenizer):
    long = SquadExample(uid="l", label=None, question="red green blue black white cat dog sun moon tree",
                        context="river stone house")
    (feat,) = encode_windows([long], tiny_tokenizer, 32, SpanSettings(doc_stride=8, max_query_length=4))
    assert feat["segment_ids"].count(0) == 4


def test_a_stride_that_leaves_no_room_is_a_clear_error(tiny_tokenizer):
    with pytest.raises(DataError, match=r"question q: a window of 24 tokens leaves 19 .* doc_stride 19: raise max_seq_len"):
        windows([example(0, 0)], stride=19, tokenizer=tiny_tokenizer)


def test_features_windowed_otherwise_are_refused_not_silently_used(tiny_tokenizer):
    from mtdnn_core.api import TaskDef
    from mtdnn_squad.head import SpanHead
    from mtdnn_squad.loss import SpanCrossEntropy
    from mtdnn_squad.task_types import Span

    feats = windows([example(16, 20)], tokenizer=tiny_tokenizer)  # doc_stride 5
    span = Span()
    batch = span.collate(feats, tiny_tokenizer.pad_token_id)
    assert batch["labels"].tolist() == [f["label"] for f in feats]
    task = TaskDef(name="squad", task_type="span", data_format="squad_json", head_config={"doc_stride": 5})
    same = SpanHead(4, task, SpanHead.Config(doc_stride=5))
    outputs = same(torch.zeros(len(feats), batch["input_ids"].shape[1], 4), batch)
    assert torch.isfinite(span.compute_loss(same, SpanCrossEntropy(), outputs, batch))
    other = SpanHead(4, task, SpanHead.Config(doc_stride=8))  # e.g. head_config changed, cache kept
    with pytest.raises(DataError, match="windowed with doc_stride 5, .* asks for doc_stride 8, max_query_length 64: delete the feature cache"):
        span.compute_loss(other, SpanCrossEntropy(), outputs, batch)
    with pytest.raises(DataError, match="delete the feature cache"):
        span.decoder(task.model_copy(update={"head_config": {"doc_stride": 8}}), other).add(feats, batch, outputs)
