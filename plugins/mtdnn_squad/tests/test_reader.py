"""Reading the official JSON: the real sample, and every kind of bad input named by file and question."""
import json

import pytest

from mtdnn_core.api import DataError, TaskDef
from mtdnn_squad.formats import SquadJson
from mtdnn_squad.reader import read_squad
from mtdnn_squad.task_types import Span, SpanV2

CONTEXT = "The Normans gave their name to Normandy, a region in France."
GOOD = {"id": "q1", "question": "In what country is Normandy?", "answers": [{"text": "France", "answer_start": 53}]}


def test_the_real_sample_reads_in_full(sample_path):
    questions = read_squad(sample_path)
    assert len(questions) == 1407 and sum(q.is_impossible for q in questions) == 702  # as published
    first = questions[0]
    assert first.uid == "56ddde6b9a695914005b9628" and first.title == "Normans"
    assert [a.text for a in first.answers] == ["France"] * 4 and first.context[159:165] == "France"


def test_a_squad_1_1_task_leaves_unanswerable_questions_out_and_says_how_many(sample_path):
    task = TaskDef(name="squad", task_type="span", data_format="squad_json")
    with pytest.warns(UserWarning, match="702 unanswerable question\\(s\\) left out of task 'squad'.* 705 kept"):
        kept = SquadJson().read(sample_path, task, Span())
    assert len(kept) == 705 and all(q.answers for q in kept)
    assert len(SquadJson().read(sample_path, task, SpanV2())) == 1407


@pytest.mark.parametrize("qa, message", [
    ({**GOOD, "answers": [{"text": "France", "answer_start": 50}]},
     r"question q1 answers\[0\]: answer_start 50 does not point at the answer text 'France' \(the context has 'in Fra' there\)"),
    ({"id": "q1", "answers": []}, r"question q1: missing 'question'"),
    ({**GOOD, "answers": [{"text": "France"}]}, r"question q1 answers\[0\]: missing 'answer_start'"),
    ({**GOOD, "answers": [{"text": "France", "answer_start": "53"}]}, r"question q1 answers\[0\]: 'answer_start' must be an integer, got str"),
    ({**GOOD, "is_impossible": True}, r"question q1: is_impossible is true but 1 answer\(s\) are listed"),
    ({**GOOD, "question": "  "}, r"question q1: empty question"),
])
def test_bad_questions_are_named_by_file_and_id(tmp_path, write_squad, qa, message):
    path = write_squad(tmp_path / "bad.json", CONTEXT, [qa])
    with pytest.raises(DataError, match=f"bad.json: {message}"):
        read_squad(path)


def test_bad_files(tmp_path, write_squad):
    path = write_squad(tmp_path / "dup.json", CONTEXT, [GOOD, {**GOOD, "question": "again?"}])
    with pytest.raises(DataError, match=r"dup.json: question q1: duplicate question id \(also in article 0 \(T\) paragraph 0\)"):
        read_squad(path)
    path = write_squad(tmp_path / "empty.json", "  ", [GOOD])
    with pytest.raises(DataError, match=r"empty.json: article 0 \(T\) paragraph 0: empty context for question\(s\) q1"):
        read_squad(path)
    path = write_squad(tmp_path / "mixed.json", CONTEXT, [GOOD, {"id": "q2", "question": "Who?"}])
    with pytest.raises(DataError, match=r"mixed.json: 1 of 2 questions have no answers .*\(e.g. question q2\)"):
        read_squad(path)
    (tmp_path / "noqas.json").write_text(json.dumps({"data": [{"title": "T", "paragraphs": [{"context": CONTEXT}]}]}))
    with pytest.raises(DataError, match=r"noqas.json: article 0 \(T\) paragraph 0: missing 'qas'"):
        read_squad(tmp_path / "noqas.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(DataError, match="not a SQuAD file"):
        read_squad(tmp_path / "list.json")
    (tmp_path / "broken.json").write_text('{"data": [\n')
    with pytest.raises(DataError, match=r"broken.json:2: not valid JSON"):
        read_squad(tmp_path / "broken.json")


def test_unlabeled_files_read_for_prediction(tmp_path, write_squad):
    path = write_squad(tmp_path / "ask.json", CONTEXT, [{"id": "a", "question": "Where?"}, {"id": "b", "question": "Who?"}])
    assert [(q.uid, q.label) for q in read_squad(path)] == [("a", None), ("b", None)]
