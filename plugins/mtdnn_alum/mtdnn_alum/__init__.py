"""SMART, ALUM and f-divergence regularizers for mtdnn."""

__version__ = "0.2.1"
