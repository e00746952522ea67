"""Setting up a run, the training loop, evaluation and checkpoints."""
