"""Property tests: whatever bytes a TSV or YAML file holds, the readers either parse it or
raise the project's own error (never a raw exception, never a silent partial read)."""
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtdnn_core.config import complete_task_def, load_task_defs, load_train_config, parse_task_defs
from mtdnn_core.data.formats import PremiseAndMultiHypothesis, PremiseAndOneHypothesis, Sequence
from mtdnn_core.errors import MtdnnError
from mtdnn_core.testing import make_host

TYPES = make_host().registries.task_types
DEFS = {n: complete_task_def(d, TYPES) for n, d in parse_task_defs(
    "pair:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n  labels: [a, b]\n"
    "reg:\n  data_format: PremiseAndOneHypothesis\n  task_type: Regression\n"
    "seq:\n  data_format: Sequence\n  task_type: SequenceLabeling\n  labels: [O, B-X, I-X]\n"
    "rank:\n  data_format: PremiseAndMultiHypothesis\n  task_type: Ranking\n").items()}

# text made of the characters that matter to these formats, plus anything else
CELLS = st.lists(st.sampled_from(["a", "b", "O", "B-X", "1", "0.5", "nan", "[", "]", "'", '"', ",", " ", "-", "é", "\x00"]),
                 max_size=6).map("".join)
ROWS = st.lists(st.lists(CELLS, min_size=0, max_size=7).map("\t".join), max_size=6).map("\n".join)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _file(content) -> Path:
    handle = tempfile.NamedTemporaryFile(delete=False, suffix=".tsv")
    handle.write(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
    handle.close()
    return Path(handle.name)


def _parses_or_says_why(read):
    try:
        read()
    except MtdnnError as exc:
        assert str(exc)  # a message, not an empty error


@SETTINGS
@given(ROWS, st.sampled_from([("pair", PremiseAndOneHypothesis()), ("reg", PremiseAndOneHypothesis()),
                              ("seq", Sequence()), ("rank", PremiseAndMultiHypothesis())]))
def test_tsv_readers(text, task_and_format):
    name, fmt = task_and_format
    path = _file(text)
    _parses_or_says_why(lambda: fmt.read(path, DEFS[name], TYPES.get(DEFS[name].task_type).factory))


@SETTINGS
@given(st.binary(max_size=80))
def test_tsv_reader_on_arbitrary_bytes(data):
    path = _file(data)
    _parses_or_says_why(lambda: PremiseAndOneHypothesis().read(path, DEFS["pair"], TYPES.get("classification").factory))


YAML_PIECES = st.sampled_from(["t:", "  task_type: Classification", "  data_format: PremiseOnly", "  labels: [a, a]",
                               "  n_class: -1", "- x", "  loss: ce", "  loss: mse", "t_2:", "tasks: [t]", "lr: x",
                               "  [", ": :", "\t", "batch_size: 0", "&a b", "*a", "!!python/object:os.system"])


@SETTINGS
@given(st.lists(YAML_PIECES, max_size=8).map("\n".join))
def test_yaml_task_files_and_configs(text):
    path = _file(text)
    _parses_or_says_why(lambda: load_task_defs(path))
    _parses_or_says_why(lambda: load_train_config(path))
