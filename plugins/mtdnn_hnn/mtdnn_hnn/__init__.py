"""HNN for mtdnn: pronoun resolution as a choice between candidate antecedents, scored by a
masked language model and a semantic-similarity matcher over one shared encoder (arXiv 1907.11983)."""

__version__ = "0.1.0"
