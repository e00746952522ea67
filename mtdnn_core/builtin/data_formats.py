"""Built-in canonical data formats."""
from mtdnn_core.data.corpus import TextCorpus
from mtdnn_core.data.formats import BUILTIN_FORMATS
from mtdnn_core.hookspecs import hookimpl


@hookimpl
def register_data_formats(registry):
    for data_format in BUILTIN_FORMATS:
        registry.add(data_format.name, data_format, description=type(data_format).__doc__ or data_format.columns)
    registry.add(TextCorpus.name, TextCorpus(), description=TextCorpus.columns)
