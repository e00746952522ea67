"""Models in and out of mtdnn: TensorFlow BERT and original MT-DNN checkpoints to Hugging Face
directories, trained tasks to Hugging Face models, and embedding extraction."""

__version__ = "0.1.0"
