"""The shared encoder, task heads and the multi-task model that joins them."""
