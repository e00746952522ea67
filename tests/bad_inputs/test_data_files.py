"""Bad data files: every case is an error naming the file, the line and what to do."""
import pytest


CASES = [
    # (id, task, file name, content, expected pieces; "{f}" is the file's path)
    ("wrong-column-count", "pair", "pair_train.tsv", "1\tyes\ta\tb\n2\tno\ta\n", ["{f}:2: 3 column(s), expected 4"]),
    ("unknown-label", "pair", "pair_train.tsv", "1\tyes\ta\tb\n2\tmaybe\ta\tb\n", ["{f}:2: column 'label': unknown label 'maybe'", "known labels: no, yes"]),
    ("class-id-outside", "single", "single_train.tsv", "1\t1\tgood\n2\t2\tbad\n", ["{f}:2: column 'label': class id 2 is outside 0..1"]),
    ("fractional-class-id", "single", "single_train.tsv", "1\t1\tgood\n2\t1.7\tbad\n", ["{f}:2: column 'label': '1.7' is not a class id"]),
    ("regression-word", "reg", "reg_train.tsv", "1\t4.5\ta\tb\n2\thigh\ta\tb\n", ["{f}:2: column 'label': 'high' is not a number"]),
    ("regression-nan", "reg", "reg_train.tsv", "1\tnan\ta\tb\n2\t1\ta\tb\n", ["{f}:1: column 'label': 'nan' is not a finite number"]),
    ("regression-inf", "reg", "reg_train.tsv", "1\t2\ta\tb\n2\t-inf\ta\tb\n", ["{f}:2: column 'label': '-inf' is not a finite number"]),
    ("empty-file", "pair", "pair_train.tsv", "\n\n", ["{f}: no rows"]),
    ("train-row-without-label", "pair", "pair_train.tsv", "1\tyes\ta\tb\n2\t\ta\tb\n", ["{f}:2: no label, while 1 other row(s) have one"]),
    ("dev-row-without-label", "pair", "pair_dev.tsv", "1\tyes\ta\tb\n2\tno\ta\tb\n3\t\ta\tb\n", ["{f}:3: no label"]),
    ("glue-header", "pair", "pair_train.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tyes\n", ["{f}:1: the first row is a header", "convert it with the plugin of its data set"]),
    ("sequence-length-mismatch", "seq", "seq_train.tsv", "1\tO O\tJohn Smith ran\n", ["{f}:1: 2 labels for 3 words"]),
    ("sequence-unknown-tag", "seq", "seq_train.tsv", "1\tB-PER O B-XYZ\tJohn ran far\n", ["{f}:1: column 'labels': unknown label 'B-XYZ'"]),
    ("sequence-bad-list", "seq", "seq_train.tsv", "1\t['O', 'O'\tgo home\n", ["{f}:1: column 'labels': not a valid list"]),
    ("ranking-index-outside", "rank", "rank_train.tsv", "1\tc1,c2\t5\twho?\tx\ty\n", ["{f}:1: column 'label': index 5 but the row has 2 candidates"]),
    ("ranking-unknown-id", "rank", "rank_train.tsv", "1\tc1,c2\tc9\twho?\tx\ty\n", ["{f}:1: column 'label': 'c9' is neither a candidate index nor a candidate id"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_rows(ws, case):
    _, task, name, content, expected = case
    path = ws.write(ws.data / name, content)
    ws.fails(ws.train(task), *[piece.format(f=path) for piece in expected])


@pytest.mark.parametrize("encoding", ["latin-1", "binary"])
def test_files_that_are_not_utf8(ws, encoding):
    content = "1\tyes\tcaf\xe9\tb\n".encode("latin-1") if encoding == "latin-1" else b"1\tyes\t\x00\xff\xfe\x81\tb\n"
    path = ws.write(ws.data / "pair_train.tsv", b"2\tno\ta\tb\n" + content, binary=True)
    ws.fails(ws.train("pair"), f"{path}:2: not UTF-8 (byte 0x", "iconv")


def test_missing_training_file(ws):
    (ws.data / "pair_train.tsv").unlink()
    ws.fails(ws.train("pair"), "task 'pair': no training file in", "pair_train.tsv")


def test_missing_data_directory(ws):
    args = ws.train("pair")
    args[args.index("--data-dir") + 1] = str(ws.root / "nowhere")
    ws.fails(args, "task 'pair': data directory", "nowhere does not exist")


def test_no_data_directory(ws):
    args = ws.train("pair")
    i = args.index("--data-dir")
    ws.fails(args[:i] + args[i + 2:], "task 'pair': no --data-dir given")


def test_predict_on_a_raw_glue_file(ws, finished_run):
    glue = ws.write(ws.root / "dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tyes\n")
    ws.fails(["predict", "--checkpoint", finished_run, "--task", "pair", "--data", glue], f"{glue}:1: the first row is a header")


def test_predict_on_a_latin1_file(ws, finished_run):
    path = ws.write(ws.root / "x.tsv", "1\tyes\tcaf\xe9\tb\n".encode("latin-1"), binary=True)
    ws.fails(["predict", "--checkpoint", finished_run, "--task", "pair", "--data", path], f"{path}:1: not UTF-8")


def test_predict_a_task_the_checkpoint_lacks(ws, finished_run):
    ws.fails(["predict", "--checkpoint", finished_run, "--task", "pairs", "--data", ws.data / "pair_dev.tsv"],
             "no task in this checkpoint 'pairs'; did you mean 'pair'?")
