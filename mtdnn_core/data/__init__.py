"""Reading canonical files, tokenizing them (with an on-disk cache) and batching."""
