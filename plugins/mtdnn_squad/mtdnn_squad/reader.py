"""Reading the official SQuAD JSON (1.1 and 2.0) into questions, strictly.

``{"version", "data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question",
"answers": [{"text", "answer_start"}], "is_impossible", "plausible_answers"}]}]}]}``

A question is *answerable* (answers listed), *unanswerable* (2.0: ``is_impossible: true``,
no answers) or *unlabeled* (no answers and no ``is_impossible``: files to predict). A file
mixes labeled and unlabeled questions only by mistake, so that is an error. Every answer must
sit at its ``answer_start`` in the context (``plausible_answers`` are not used and not
checked). Errors name the file and the question id (or the article and paragraph); nothing is
dropped silently.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtdnn_core.api import DataError, Example


@dataclass
class Answer:
    text: str
    start: int  # character offset in the context

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass
class SquadExample(Example):
    """One question with its context. ``label`` is ``None`` for unlabeled questions and the list
    of gold answers otherwise (empty: unanswerable)."""

    question: str = ""
    context: str = ""
    answers: list[Answer] = field(default_factory=list)
    is_impossible: bool = False
    title: str = ""

    @property
    def labeled(self) -> bool:
        return self.label is not None


def load_json(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DataError(f"{path}: not a SQuAD file: expected an object with a 'data' list of articles")
    return data


KIND_NAMES = {int: "an integer", str: "a string", list: "a list"}


def _field(record: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(record, dict) or key not in record:
        raise DataError(f"{where}: missing '{key}'")
    value = record[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or isinstance(value, bool):
        expected = " or ".join(KIND_NAMES[k] for k in kinds)
        raise DataError(f"{where}: '{key}' must be {expected}, got {type(value).__name__}")
    return value


def _answers(qa: dict, key: str, context: str, where: str) -> list[Answer]:
    out = []
    for n, raw in enumerate(qa.get(key) or []):
        at = f"{where} {key}[{n}]"
        text = _field(raw, "text", str, at)
        start = _field(raw, "answer_start", int, at)
        if not text.strip():
            raise DataError(f"{at}: empty answer text")
        found = context[start : start + len(text)] if 0 <= start <= len(context) else ""
        if found != text:
            raise DataError(f"{at}: answer_start {start} does not point at the answer text {text!r} "
                            f"(the context has {found!r} there); fix answer_start or the text")
        out.append(Answer(text, start))
    return out


def read_squad(path: Path) -> list[SquadExample]:
    """Every question of a SQuAD 1.1 or 2.0 file, in file order."""
    path = Path(path)
    data = load_json(path)
    examples: list[SquadExample] = []
    seen: dict[str, str] = {}
    for a, article in enumerate(data["data"]):
        title = article.get("title", "") if isinstance(article, dict) else ""
        article_at = f"{path}: article {a}" + (f" ({title})" if title else "")
        for p, paragraph in enumerate(_field(article, "paragraphs", list, article_at)):
            paragraph_at = f"{article_at} paragraph {p}"
            context = _field(paragraph, "context", str, paragraph_at)
            qas = _field(paragraph, "qas", list, paragraph_at)
            if not context.strip() and qas:
                raise DataError(f"{paragraph_at}: empty context for question(s) "
                                f"{', '.join(str(q.get('id', '?')) for q in qas if isinstance(q, dict))}")
            for n, qa in enumerate(qas):
                qid = _field(qa, "id", (str, int), f"{paragraph_at} question {n}")
                qid = str(qid)
                where = f"{path}: question {qid}"
                if qid in seen:
                    raise DataError(f"{where}: duplicate question id (also in {seen[qid]}); ids must be unique")
                seen[qid] = paragraph_at.removeprefix(f"{path}: ")
                examples.append(_question(qa, qid, context, title, where))
    if not examples:
        raise DataError(f"{path}: no questions")
    _check_labels(examples, path)
    return examples


def _question(qa: dict, qid: str, context: str, title: str, where: str) -> SquadExample:
    question = _field(qa, "question", str, where)
    if not question.strip():
        raise DataError(f"{where}: empty question")
    impossible = qa.get("is_impossible")
    if impossible is not None and not isinstance(impossible, bool):
        raise DataError(f"{where}: 'is_impossible' must be true or false, got {impossible!r}")
    if "answers" in qa and not isinstance(qa["answers"], list):
        raise DataError(f"{where}: 'answers' must be a list")
    answers = _answers(qa, "answers", context, where)
    if impossible and answers:
        raise DataError(f"{where}: is_impossible is true but {len(answers)} answer(s) are listed")
    labeled = bool(answers) or impossible is True
    return SquadExample(uid=qid, label=answers if labeled else None, texts=[question, context], question=question,
                        context=context, answers=answers, is_impossible=bool(impossible), title=title)


def _check_labels(examples: list[SquadExample], path: Path) -> None:
    unlabeled = [e.uid for e in examples if not e.labeled]
    if unlabeled and len(unlabeled) < len(examples):
        raise DataError(
            f"{path}: {len(unlabeled)} of {len(examples)} questions have no answers and no 'is_impossible' "
            f"(e.g. question {unlabeled[0]}): a labeled file needs answers for every question, or "
            f"'is_impossible': true for unanswerable ones (SQuAD 2.0)")
