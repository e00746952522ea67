"""Sequence labeling for mtdnn: CoNLL readers, tag schemes, a CRF head, entity-level metrics."""

__version__ = "0.1.0"
