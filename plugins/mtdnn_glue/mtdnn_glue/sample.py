"""A small GLUE-format sample data set, written for mtdnn's demo and smoke tests.

Four tasks laid out like the GLUE download (``SST-2/``, ``MRPC/``, ``STS-B/``, ``RTE/``), built
deterministically from hand-written vocabulary and templates: sentiment of short reviews,
paraphrase pairs, graded similarity of event descriptions and simple entailment. It is tiny
and synthetic: good for checking that a pipeline learns, not for reporting GLUE numbers.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

from mtdnn_core.api import atomic_write_text

VERSION = 1
SIZES = {"train": 240, "dev": 80}

POSITIVE = ["wonderful", "delightful", "moving", "brilliant", "charming", "gripping", "funny", "beautiful", "smart", "touching"]
NEGATIVE = ["dull", "tedious", "clumsy", "awful", "boring", "lifeless", "messy", "predictable", "shallow", "painful"]
THINGS = ["film", "story", "script", "cast", "ending", "soundtrack", "director's work", "dialogue", "plot", "performance"]
REVIEW = [
    "the {thing} is {adj} .",
    "a {adj} {thing} from start to finish .",
    "i found the {thing} {adj} and {adj2} .",
    "honestly , the {thing} feels {adj} .",
    "what a {adj} {thing} .",
    "the {thing} turns out to be {adj} , even {adj2} .",
]
PEOPLE = ["the mayor", "a young farmer", "the teacher", "my neighbour", "the pilot", "a famous chef", "the old doctor", "the new manager"]
PEOPLE_SYN = {"the mayor": "the city's mayor", "a young farmer": "a farmer in his twenties", "the teacher": "the schoolteacher",
              "my neighbour": "the person next door", "the pilot": "the aircraft's pilot", "a famous chef": "a well-known cook",
              "the old doctor": "the elderly physician", "the new manager": "the recently hired manager"}
ACTIONS = [("bought", "purchased", "sold"), ("repaired", "fixed", "broke"), ("painted", "coloured", "scratched"),
           ("found", "discovered", "lost"), ("cleaned", "washed", "dirtied"), ("borrowed", "took on loan", "lent")]
OBJECTS = ["a red bicycle", "the kitchen table", "an old piano", "a small boat", "the garden gate", "a blue van", "the office printer", "a wooden chair"]
PLACES = ["in Paris", "near the river", "on Monday", "after lunch", "at the market", "in the village", "last winter", "before dawn"]


def _review(rng: random.Random) -> tuple[str, str]:
    label = rng.random() < 0.5
    words = POSITIVE if label else NEGATIVE
    adj, adj2 = rng.sample(words, 2)
    text = rng.choice(REVIEW).format(thing=rng.choice(THINGS), adj=adj, adj2=adj2)
    return text, "1" if label else "0"


def _event(rng: random.Random) -> tuple[str, tuple, str]:
    who, action, what, where = rng.choice(PEOPLE), rng.choice(ACTIONS), rng.choice(OBJECTS), rng.choice(PLACES)
    return who, action, what, where


def _sentence(who, verb, what, where) -> str:
    text = f"{who} {verb} {what} {where} ."
    return text[0].upper() + text[1:]


def _paraphrase(rng: random.Random) -> tuple[str, str, str]:
    who, action, what, where = _event(rng)
    first = _sentence(who, action[0], what, where)
    if rng.random() < 0.5:
        return first, _sentence(PEOPLE_SYN[who], action[1], what, where), "1"
    change = rng.choice(["who", "verb", "what"])
    other_who = rng.choice([p for p in PEOPLE if p != who]) if change == "who" else who
    verb = action[2] if change == "verb" else action[1]
    other_what = rng.choice([o for o in OBJECTS if o != what]) if change == "what" else what
    return first, _sentence(other_who, verb, other_what, where), "0"


def _similarity(rng: random.Random) -> tuple[str, str, str]:
    who, action, what, where = _event(rng)
    slots = ["who", "verb", "what", "where"]
    changed = set(rng.sample(slots, rng.randint(0, 4)))
    b = (
        rng.choice([p for p in PEOPLE if p != who]) if "who" in changed else PEOPLE_SYN[who],
        action[2] if "verb" in changed else action[1],
        rng.choice([o for o in OBJECTS if o != what]) if "what" in changed else what,
        rng.choice([p for p in PLACES if p != where]) if "where" in changed else where,
    )
    score = 5.0 * (4 - len(changed)) / 4
    return _sentence(who, action[0], what, where), _sentence(*b), f"{score:.3f}"


def _entailment(rng: random.Random) -> tuple[str, str, str]:
    who, action, what, where = _event(rng)
    premise = _sentence(who, action[0], what, where)
    short_what = what.split(" ", 1)[1] if " " in what else what
    if rng.random() < 0.5:
        hypothesis = _sentence(who, action[0], "the " + short_what.split()[-1], "")
        label = "entailment"
    else:
        if rng.random() < 0.5:
            hypothesis = _sentence(rng.choice([p for p in PEOPLE if p != who]), action[0], "the " + short_what.split()[-1], "")
        else:
            hypothesis = _sentence(who, action[2], "the " + short_what.split()[-1], "")
        label = "not_entailment"
    return premise, hypothesis.replace("  .", " ."), label


def write_sample(target: Path, seed: int = 13) -> Path:
    """Write the sample data set in GLUE layout under ``target``; return ``target``."""
    target = Path(target)
    rng = random.Random(seed)
    for split, n in SIZES.items():
        sst = ["sentence\tlabel"] + ["\t".join(_review(rng)) for _ in range(n)]
        mrpc = ["\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String"]
        for i in range(n):
            a, b, label = _paraphrase(rng)
            mrpc.append(f"{label}\t{1000 + 2 * i}\t{1001 + 2 * i}\t{a}\t{b}")
        sts = ["index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore"]
        for i in range(n):
            a, b, score = _similarity(rng)
            sts.append(f"{i}\tsample\tmtdnn\t2026\t{i:04d}\tnone\tnone\t{a}\t{b}\t{score}")
        rte = ["index\tsentence1\tsentence2\tlabel"]
        for i in range(n):
            a, b, label = _entailment(rng)
            rte.append(f"{i}\t{a}\t{b}\t{label}")
        for folder, lines in (("SST-2", sst), ("MRPC", mrpc), ("STS-B", sts), ("RTE", rte)):
            atomic_write_text(target / folder / f"{split}.tsv", "\n".join(lines) + "\n")
    atomic_write_text(target / "README.txt", f"mtdnn GLUE-format sample data, version {VERSION}, seed {seed}.\n")
    return target


def sample_dir() -> Path:
    """The sample data set, written once into the user's cache directory."""
    root = Path(os.environ.get("MTDNN_CACHE", Path.home() / ".cache" / "mtdnn"))
    target = root / f"glue-sample-v{VERSION}"
    if not (target / "README.txt").is_file():
        write_sample(target)
    return target
