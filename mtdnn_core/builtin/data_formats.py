"""Built-in canonical data formats, with the original toolkit's spellings as aliases."""
from mtdnn_core.data.corpus import TextCorpus
from mtdnn_core.data.formats import BUILTIN_FORMATS
from mtdnn_core.hookspecs import hookimpl


#: the original toolkit's names of the built-in formats where they differ
ORIGINAL_SPELLINGS = {"Sequence": ("Seqence",)}


@hookimpl
def register_data_formats(registry):
    for data_format in BUILTIN_FORMATS:
        registry.add(data_format.name, data_format, aliases=ORIGINAL_SPELLINGS.get(data_format.name, ()),
                     description=type(data_format).__doc__ or data_format.columns)
    registry.add(TextCorpus.name, TextCorpus(), description=TextCorpus.columns)
