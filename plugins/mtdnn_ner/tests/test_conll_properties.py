"""Property test: whatever bytes a CoNLL file holds, the reader either parses it or raises the
project's own error (never a raw exception, never a silent partial read)."""
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtdnn_core.api import MtdnnError
from mtdnn_ner.conll import read_conll

# tokens made of the characters that matter to the format, plus anything else
CELLS = st.lists(st.sampled_from(["a", "b", "O", "B-X", "1", "0.5", "nan", "[", "]", "'", '"', ",", "-", "é", "\x00", "\t"]),
                 max_size=6).map("".join)


def _file(content) -> Path:
    handle = tempfile.NamedTemporaryFile(delete=False, suffix=".txt")
    handle.write(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
    handle.close()
    return Path(handle.name)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=80), st.lists(st.lists(CELLS, max_size=5).map(" ".join), max_size=8).map("\n".join)))
def test_conll_reader(content):
    path = _file(content)
    try:
        read_conll(path)
    except MtdnnError as exc:
        assert str(exc)  # a message, not an empty error
    finally:
        path.unlink()
