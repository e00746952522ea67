"""Readers for the Winograd-style files HNN uses; a TSV file's layout is known by its header.

=================  ==============================================================================
layout             columns (header row first; tab-separated; rows are ``file:line`` in errors)
=================  ==============================================================================
split sentence     ``left  pron  right  candidates  selected``: the sentence cut around the pronoun,
                   candidates comma-separated, ``selected`` the answer's index (WSC273, PDP60)
indexed sentence   ``sentence  pronoun_idx  pronoun  coref  candidates``: the pronoun's character
                   offset, ``coref`` the answer's text (DPR/WSCR "DPRD")
WNLI annotated     ``id  source  target  pronoun_idx  pronoun  selected_nouns  candidates_nouns
                   [label]``: ``target`` puts ``selected_nouns`` in place of the pronoun, ``label``
                   says whether it follows; ``candidates_nouns`` are the sentence's noun phrases,
                   ``|``-separated; ``id`` is the GLUE row index
WSC XML            ``WSCollection.xml``: ``<schema>`` with ``<txt1> <pron> <txt2>``, two
                   ``<answer>`` and ``<correctAnswer>`` A or B; read as UTF-8 whatever its
                   declaration says (the published file declares ISO-8859-1 but is UTF-8)
=================  ==============================================================================
"""
from __future__ import annotations

from pathlib import Path
from xml.parsers import expat

from mtdnn_core.api import DataError, read_tsv_rows
from mtdnn_hnn.schema import PronounSchema, index_of, make_schema

SPLIT = ("left", "pron", "right", "candidates", "selected")
INDEXED = ("sentence", "pronoun_idx", "pronoun", "coref", "candidates")
WNLI = ("id", "source", "target", "pronoun_idx", "pronoun", "selected_nouns", "candidates_nouns", "label")


def read_schemas(path: str | Path) -> list[PronounSchema]:
    """Every item of a Winograd-style file (layout from its header, or XML by suffix)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() == ".xml":
        schemas = read_wsc_xml(path)
    else:
        rows = iter(read_tsv_rows(path))
        first = next(rows, None)
        if first is None:
            raise DataError(f"{path}: empty file")
        header = tuple(cell.strip() for cell in first[1])
        reader = LAYOUTS.get(header)
        if reader is None:
            known = "; ".join(" ".join(h) for h in LAYOUTS)
            raise DataError(f"{path}:{first[0]}: unknown header '{' '.join(header)}'; known layouts: {known}")
        schemas = [reader(row, f"{path}:{number}", n, len(header)) for n, (number, row) in enumerate(rows)]
    if not schemas:
        raise DataError(f"{path}: no rows")
    return schemas


def _columns(row: list[str], expected: int, where: str) -> list[str]:
    if len(row) != expected:
        raise DataError(f"{where}: {len(row)} column(s), expected {expected}")
    return row


def _int(cell: str, where: str, column: str) -> int:
    try:
        return int(cell.strip())
    except ValueError:
        raise DataError(f"{where}: column '{column}': '{cell}' is not a whole number") from None


def joined(left: str, pronoun: str, right: str) -> tuple[str, int]:
    """The sentence from its parts around the pronoun, and the pronoun's offset in it."""
    left, pronoun, right = left.strip(), pronoun.strip(), right.strip()
    head = f"{left} " if left else ""
    return f"{head}{pronoun}{' ' + right if right else ''}", len(head)


def split_sentence_row(row: list[str], where: str, n: int, width: int) -> PronounSchema:
    left, pronoun, right, candidates, selected = _columns(row, width, where)
    sentence, start = joined(left, pronoun, right)
    return make_schema(uid=str(n), sentence=sentence, pronoun_start=start, pronoun=pronoun.strip(),
                       candidates=[c.strip() for c in candidates.split(",")],
                       label=_int(selected, where, "selected"), where=where)


def indexed_sentence_row(row: list[str], where: str, n: int, width: int) -> PronounSchema:
    sentence, offset, pronoun, coref, candidates = _columns(row, width, where)
    names = [c.strip() for c in candidates.split(",")]
    schema = make_schema(uid=str(n), sentence=sentence, pronoun_start=_int(offset, where, "pronoun_idx"),
                         pronoun=pronoun, candidates=names, label=None, where=where)
    schema.label = index_of(names, coref, where, "coref")
    return schema


def wnli_row(row: list[str], where: str, n: int, width: int) -> PronounSchema:
    """The hypothesis's candidate first, then the other noun phrases (case variants merged)."""
    cells = _columns(row, width, where)
    uid, source, _target, offset, pronoun, selected, nouns = cells[:7]
    candidates = [selected.strip()]
    for noun in nouns.split("|"):
        if noun.strip() and noun.strip().lower() not in {c.lower() for c in candidates}:
            candidates.append(noun.strip())
    label = None
    if width == len(WNLI) and cells[7].strip():
        label = _int(cells[7], where, "label")
    return make_schema(uid=uid.strip(), sentence=source, pronoun_start=_int(offset, where, "pronoun_idx"),
                       pronoun=pronoun, candidates=candidates, label=label, where=where, hypothesis=0)


LAYOUTS = {SPLIT: split_sentence_row, INDEXED: indexed_sentence_row, WNLI: wnli_row, WNLI[:-1]: wnli_row}


def _text(value: str) -> str:
    return " ".join(value.split())


def read_wsc_xml(path: Path) -> list[PronounSchema]:
    """``WSCollection.xml``: each ``<schema>`` as a choice between its two answers.

    Parsing is bounded: an entity declaration (which could expand without limit) and a reference
    to an entity the file does not define (which expat would drop from the text) are errors;
    the predefined entities (``&amp;`` ...) and character references are read as their text.
    Text arrives in pieces, gathered in lists and joined once per element.
    """
    schemas: list[PronounSchema] = []
    stack: list[str] = []
    current: dict = {}
    parser = expat.ParserCreate(encoding="UTF-8")  # overrides the file's (wrong) declaration
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def where() -> str:
        return f"{path}:{parser.CurrentLineNumber}"

    def start(tag, attrs):
        stack.append(tag)
        if tag == "schema":
            current.clear()
            current.update(line=parser.CurrentLineNumber, answers=[], parts={}, correct=[])
        elif tag == "answer" and stack[-2:-1] == ["answers"]:
            current["answers"].append([])

    def text(data):
        if "schema" not in stack:
            return
        if stack[-1] == "answer" and stack[-2:-1] == ["answers"]:
            current["answers"][-1].append(data)
        elif stack[-2:-1] == ["text"] and stack[-1] in ("txt1", "pron", "txt2"):
            current["parts"].setdefault(stack[-1], []).append(data)
        elif stack[-1] == "correctAnswer":
            current["correct"].append(data)

    def end(tag):
        stack.pop()
        if tag == "schema":
            fields = {"parts": {k: "".join(v) for k, v in current["parts"].items()},
                      "answers": ["".join(a) for a in current["answers"]], "correct": "".join(current["correct"])}
            schemas.append(_xml_schema(fields, f"{path}:{current['line']}", len(schemas)))

    def declared(name, is_parameter, *_):
        kind = "parameter entity" if is_parameter else "entity"
        raise DataError(f"{where()}: the file declares the XML {kind} '{name}'; entity declarations are not read "
                        f"(they can expand without bound): remove the DOCTYPE's entities and write their text in place")

    def skipped(name, is_parameter):
        raise DataError(f"{where()}: '&{name};' is not an entity this reader knows (only &amp; &lt; &gt; &quot; "
                        f"&apos; and character references such as &#233;); write the character itself")

    def external(context, base, system_id, public_id):
        raise DataError(f"{where()}: the file refers to an external entity ({system_id}); it is not read")

    parser.StartElementHandler, parser.CharacterDataHandler, parser.EndElementHandler = start, text, end
    parser.EntityDeclHandler, parser.SkippedEntityHandler = declared, skipped
    parser.ExternalEntityRefHandler = external
    try:
        parser.Parse(path.read_bytes(), True)
    except expat.ExpatError as exc:
        raise DataError(f"{path}:{exc.lineno}: not well-formed XML ({expat.ErrorString(exc.code)})") from None
    return schemas


def _xml_schema(fields: dict, where: str, n: int) -> PronounSchema:
    parts = fields["parts"]
    if not parts.get("pron", "").strip():
        raise DataError(f"{where}: schema without a <pron>")
    sentence, start = joined(_text(parts.get("txt1", "")), _text(parts["pron"]), _text(parts.get("txt2", "")))
    letter = fields.get("correct", "").strip().rstrip(".").strip().upper()
    answers = [_text(a) for a in fields["answers"]]
    if len(letter) != 1 or not "A" <= letter < chr(ord("A") + len(answers)):
        raise DataError(f"{where}: <correctAnswer> '{fields.get('correct', '').strip()}' is not a letter "
                        f"naming one of its {len(answers)} answers")
    return make_schema(uid=str(n), sentence=sentence, pronoun_start=start, pronoun=_text(parts["pron"]),
                       candidates=answers, label=ord(letter) - ord("A"), where=where)
