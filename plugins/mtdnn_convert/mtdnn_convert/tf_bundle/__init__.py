"""TensorFlow's checkpoint "tensor bundle" format, read and written without TensorFlow.

A bundle is ``PREFIX.index`` (a LevelDB-style SSTable mapping tensor names to
``BundleEntryProto`` records, plus a ``BundleHeaderProto`` under the empty key) and
``PREFIX.data-SSSSS-of-NNNNN`` shards holding the raw little-endian tensor bytes.
"""
from mtdnn_convert.tf_bundle.bundle import BundleReader, write_bundle

__all__ = ["BundleReader", "write_bundle"]
