"""GLUE for mtdnn: task definitions, conversion of a GLUE directory, a small sample data set."""

__version__ = "0.1.0"
