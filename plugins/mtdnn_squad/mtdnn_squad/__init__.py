"""Extractive question answering for mtdnn: SQuAD 1.1 and 2.0 readers, windowed task types, a
span head, n-best decoding and the official evaluation."""

__version__ = "0.1.0"
