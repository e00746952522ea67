"""mtdnn: multi-task learning for natural language understanding, built from plugins.

Plugin authors import :data:`hookimpl` from here; everything else is found through registries.
"""
from mtdnn_core.hookspecs import SPEC_VERSION, hookimpl

__version__ = "0.1.0"
__all__ = ["hookimpl", "SPEC_VERSION", "__version__"]
