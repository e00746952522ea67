"""Built-in regularizers."""
from mtdnn_core.hookspecs import hookimpl
from mtdnn_core.regularizers import L2SP


@hookimpl
def register_regularizers(registry):
    registry.add("l2sp", L2SP, config=L2SP.Config)
