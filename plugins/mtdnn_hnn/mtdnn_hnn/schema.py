"""One Winograd-style item: a sentence, where its pronoun is, the candidate antecedents and the
answer, checked when it is built so that a bad row fails with its file and line.

Two kinds of items share the type:

* a *choice* (WSC, PDP, DPR): ``label`` is the index of the correct candidate;
* an *entailment* row (WNLI): ``hypothesis`` is the index of the candidate the row's hypothesis
  puts in place of the pronoun and ``label`` says whether the hypothesis holds (1) or not (0);
  the row is predicted true when that candidate wins the choice.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from mtdnn_core.api import DataError, Example

#: per-candidate training targets
RIGHT, WRONG, UNKNOWN = 1, 0, -1


@dataclass
class PronounSchema(Example):
    sentence: str = ""
    pronoun_start: int = 0
    pronoun: str = ""
    candidates: list[str] = field(default_factory=list)
    hypothesis: int | None = None
    where: str = ""

    @property
    def pronoun_end(self) -> int:
        return self.pronoun_start + len(self.pronoun)

    def targets(self) -> list[int] | None:
        """What training may assume about each candidate: the answer (1), wrong (0) or unknown
        (-1: a false WNLI hypothesis rules out its own candidate, not the others)."""
        if self.label is None:
            return None
        n = len(self.candidates)
        if self.hypothesis is None:
            return [RIGHT if i == self.label else WRONG for i in range(n)]
        if self.label == 1:  # one referent: every other candidate is wrong
            return [RIGHT if i == self.hypothesis else WRONG for i in range(n)]
        return [WRONG if i == self.hypothesis else UNKNOWN for i in range(n)]


def make_schema(*, uid: str, sentence: str, pronoun_start: int, pronoun: str, candidates: list[str],
                label: int | None, where: str, hypothesis: int | None = None) -> PronounSchema:
    """A checked :class:`PronounSchema`; any problem is a :class:`DataError` naming ``where``."""
    check_pronoun(sentence, pronoun_start, pronoun, where)
    check_candidates(candidates, where)
    if hypothesis is None:
        if label is not None and not 0 <= label < len(candidates):
            raise DataError(f"{where}: answer index {label} but the row has {len(candidates)} candidates "
                            f"({', '.join(candidates)})")
    elif label not in (None, 0, 1):
        raise DataError(f"{where}: label {label}: an entailment label must be 0 or 1")
    return PronounSchema(uid=uid, label=label, sentence=sentence, pronoun_start=pronoun_start, pronoun=pronoun,
                         candidates=list(candidates), hypothesis=hypothesis, where=where)


def check_pronoun(sentence: str, start: int, pronoun: str, where: str) -> None:
    """The pronoun must sit, as a whole word, at ``start``."""
    if not pronoun.strip():
        raise DataError(f"{where}: the pronoun is empty")
    found = sentence[start : start + len(pronoun)]
    if start < 0 or found != pronoun:
        raise DataError(f"{where}: pronoun '{pronoun}' is not at character {start} of the sentence "
                        f"(found '{found}'): the pronoun position does not match the sentence")
    before = sentence[start - 1] if start > 0 else " "
    after = sentence[start + len(pronoun)] if start + len(pronoun) < len(sentence) else " "
    if before.isalnum() or after.isalnum():
        raise DataError(f"{where}: pronoun '{pronoun}' at character {start} is part of a longer word "
                        f"('{sentence[max(0, start - 5) : start + len(pronoun) + 5]}')")


def check_candidates(candidates: list[str], where: str) -> None:
    """At least two distinct, non-empty candidates (a choice of one is no choice)."""
    if any(not c.strip() for c in candidates):
        raise DataError(f"{where}: an empty candidate in {candidates}")
    if len(candidates) < 2:
        raise DataError(f"{where}: the schema has one candidate ({', '.join(candidates) or 'none'}); "
                        f"a choice needs at least two")
    lowered = [c.strip().lower() for c in candidates]
    repeated = sorted({c for c in lowered if lowered.count(c) > 1})
    if repeated:
        raise DataError(f"{where}: candidate(s) {repeated} listed twice")


def index_of(candidates: list[str], answer: str, where: str, column: str) -> int:
    """Position of ``answer`` among the candidates (case and surrounding spaces ignored)."""
    wanted = answer.strip().lower()
    hits = [i for i, c in enumerate(candidates) if c.strip().lower() == wanted]
    if len(hits) != 1:
        raise DataError(f"{where}: column '{column}': '{answer}' is not one of the candidates ({', '.join(candidates)})")
    return hits[0]
