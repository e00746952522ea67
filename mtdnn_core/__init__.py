"""mtdnn: multi-task learning for natural language understanding, built from plugins.

Plugin authors import what they use from :mod:`mtdnn_core.api` (``from mtdnn_core.api import
hookimpl, Head``), the declared, versioned plugin API; ``hookimpl`` here is kept for plugins
written before it.
"""
from mtdnn_core.hookspecs import SPEC_VERSION, hookimpl

__version__ = "0.1.1"
__all__ = ["hookimpl", "SPEC_VERSION", "__version__"]
