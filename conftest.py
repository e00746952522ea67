"""Settings for every test in the repository: strict plugin loading, no network."""
import os

os.environ.setdefault("MTDNN_STRICT_PLUGINS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MTDNN_CACHE_DIR", "off")  # no plugin inventory cache: tests see the plugins as they are
