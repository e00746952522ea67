"""Self-contained sources (torch and transformers only) that ``mtdnn export`` copies into an
exported HNN model: the head at inference and the pipeline that encodes a schema."""
