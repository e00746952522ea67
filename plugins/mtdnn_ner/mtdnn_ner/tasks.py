"""The CoNLL-2003 tasks: NER, POS tagging and chunking, all read from the same files."""
from __future__ import annotations

from pathlib import Path

from mtdnn_core.api import Task, TaskDef

NER_TAGS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
POS_TAGS = ["NNP", "NN", "IN", "CD", "DT", "JJ", "NNS", "VBD", ".", ",", "VB", "VBN", "RB", "CC", "TO", "PRP", ")", "(",
            "VBG", ":", "VBZ", '"', "POS", "PRP$", "VBP", "MD", "NNPS", "RP", "WDT", "WP", "$", "SYM", "JJR", "WRB", "JJS",
            "RBR", "FW", "EX", "RBS", "''", "PDT", "UH", "WP$", "LS", "NN|SYM"]
CHUNK_TYPES = ["NP", "VP", "PP", "ADVP", "ADJP", "SBAR", "PRT", "CONJP", "INTJ", "LST", "UCP"]
CHUNK_TAGS = ["O"] + [f"{p}-{t}" for t in CHUNK_TYPES for p in ("B", "I")]

# (train, dev, test) file names, IOB2 conversion first
LAYOUTS = (("train.txt", "valid.txt", "test.txt"), ("eng.train", "eng.testa", "eng.testb"))


def find_conll(data_dir: Path, work_dir: Path) -> dict[str, Path]:
    for names in LAYOUTS:
        files = {split: Path(data_dir) / name for split, name in zip(("train", "dev", "test"), names)}
        found = {split: path for split, path in files.items() if path.is_file()}
        if found:
            return found
    return {}


def definitions() -> dict[str, TaskDef]:
    common = {"task_type": "SequenceLabeling", "split_names": ["train", "dev", "test"]}
    return {
        "ner": TaskDef(name="ner", data_format="CoNLL-NER", labels=NER_TAGS, metric_meta=["seqeval_f1", "seqeval_report"],
                       description="CoNLL-2003 named entities (IOB2)", **common),
        "pos": TaskDef(name="pos", data_format="CoNLL-POS", labels=POS_TAGS, metric_meta=["token_accuracy"],
                       description="CoNLL-2003 part-of-speech tags", **common),
        "chunk": TaskDef(name="chunk", data_format="CoNLL-chunk", labels=CHUNK_TAGS,
                         metric_meta=["seqeval_f1", "token_accuracy"], description="CoNLL-2003 chunks (IOB2)", **common),
    }


def tasks() -> list[Task]:
    return [Task(d, locate=find_conll) for d in definitions().values()]
