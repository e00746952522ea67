"""A WordPiece ``vocab.txt`` turned into Hugging Face tokenizer files, with the lower-casing
decided explicitly (option, config) or, failing both, read off the vocabulary itself."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from mtdnn_convert.errors import ConversionError


@dataclass(frozen=True)
class LowerCasing:
    value: bool
    reason: str


def read_vocab(path: Path) -> list[str]:
    try:
        tokens = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise ConversionError(f"{path}: not UTF-8 text (byte {exc.start}); a BERT vocab.txt has one token per line") from None
    if not tokens:
        raise ConversionError(f"{path}: empty vocabulary")
    seen: dict[str, int] = {}
    for line, token in enumerate(tokens, 1):
        if token in seen:
            raise ConversionError(f"{path}:{line}: token {token!r} repeats line {seen[token]}; token ids would be ambiguous")
        seen[token] = line
    return tokens


def vocab_has_upper_case(tokens: list[str]) -> bool:
    """Uncased vocabularies hold no upper-case letters outside bracketed specials ([CLS], [unused1])."""
    return any(t != t.lower() for t in tokens if not (t.startswith("[") and t.endswith("]")))


def decide_lower_case(option: bool | None, from_config: bool | None, tokens: list[str]) -> LowerCasing:
    if option is not None:
        return LowerCasing(option, "from --do-lower-case/--no-lower-case")
    if from_config is not None:
        return LowerCasing(from_config, "from the config's do_lower_case")
    cased = vocab_has_upper_case(tokens)
    return LowerCasing(not cased, f"inferred: the vocabulary has {'' if cased else 'no '}upper-case tokens; "
                                  f"override with --{'do' if cased else 'no'}-lower-case")


def write_tokenizer(vocab_file: Path, target: Path, lower_case: bool, max_length: int) -> None:
    """``tokenizer.json`` + ``tokenizer_config.json`` (what ``AutoTokenizer`` reads) and the
    original ``vocab.txt`` beside them."""
    from transformers import BertTokenizer

    vocab = {token: i for i, token in enumerate(read_vocab(vocab_file))}
    tokenizer = BertTokenizer(vocab=vocab, do_lower_case=lower_case, model_max_length=max_length)
    tokenizer.save_pretrained(target)
    shutil.copyfile(vocab_file, Path(target) / "vocab.txt")
