"""Bad task-definition files through `mtdnn validate`: every problem at once, each with its line."""
import pytest


BASE = "t:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n"
CASES = [
    ("unknown-key", BASE + "  lables: [a, b]\n", ["{f}:4: t.lables: unknown key; did you mean 'labels'?"]),
    ("duplicate-key", BASE + "  loss: ce\n  loss: mse\n", ["{f}:5: t.loss: duplicate key (first at line 4)"]),
    ("unknown-task-type", "t:\n  data_format: PremiseOnly\n  task_type: Clasification\n",
     ["{f}:3: t.task_type: no task type 'Clasification'; did you mean 'Classification'?"]),
    ("unknown-loss", BASE + "  loss: CeCriterio\n", ["{f}:4: t.loss: no loss 'CeCriterio'; did you mean 'CeCriterion'?"]),
    ("unknown-metric", BASE + "  metric_meta: [ACC, F2]\n", ["{f}:4: t.metric_meta: no metric 'F2'"]),
    ("unknown-head", BASE + "  head: sann\n", ["{f}:4: t.head: no head 'sann'; did you mean 'san'?"]),
    ("unknown-format", "t:\n  data_format: PremiseAndOneHypotesis\n  task_type: Classification\n",
     ["{f}:2: t.data_format: no data format 'PremiseAndOneHypotesis'; did you mean 'PremiseAndOneHypothesis'?"]),
    ("labels-and-n-class", BASE + "  labels: [a, b]\n  n_class: 3\n", ["t: n_class is 3 but 2 labels are listed; leave n_class out"]),
    ("underscore-name", "my_task:\n  data_format: PremiseOnly\n  task_type: Classification\n", ["{f}:1:", "rename it to 'mytask'"]),
    ("invalid-yaml", "t:\n  task_type: [unclosed\n", ["{f}:", "not valid YAML"]),
    ("not-a-mapping", "- t\n- u\n", ["{f}: expected a mapping of task name -> definition"]),
    ("body-not-a-mapping", "t: Classification\n", ["{f}:1: task 't' must be a mapping of keys"]),
    ("format-the-type-cannot-read", "t:\n  data_format: PremiseOnly\n  task_type: Ranking\n",
     ["{f}:2: t.data_format: task type ranking reads PremiseAndMultiHypothesis, not PremiseOnly"]),
    ("san-on-regression", "t:\n  data_format: PremiseAndOneHypothesis\n  task_type: Regression\n  enable_san: true\n",
     ["{f}:4: t.enable_san: head 'san' works with classification tasks, not regression"]),
    ("head-config", BASE + "  head: san\n  head_config: {turns: 0}\n", ["t.head_config.turns: Input should be greater than or equal to 1"]),
    ("repeated-labels", BASE + "  labels: [a, a]\n", ["labels repeat: ['a']"]),
    ("dropout-out-of-range", BASE + "  dropout_p: 1.5\n", ["{f}:4: t.dropout_p: Input should be less than 1"]),
    ("regression-with-classes", "t:\n  data_format: PremiseAndOneHypothesis\n  task_type: Regression\n  n_class: 3\n",
     ["t.n_class: a regression predicts one value, not 3"]),
    ("sequence-without-labels", "t:\n  data_format: Sequence\n  task_type: SequenceLabeling\n",
     ["t.labels: sequence labeling needs its tag list"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_task_files(ws, case):
    _, text, expected = case
    path = ws.write(ws.root / "bad.yml", text)
    ws.fails(["validate", path], *[piece.format(f=path) for piece in expected])


def test_every_problem_of_a_file_is_reported_at_once(ws):
    path = ws.write(ws.root / "bad.yml", "a:\n  data_format: PremiseOnly\n  task_type: Classification\n  lables: [x]\n"
                                      "b:\n  data_format: PremiseOnly\n  task_type: Classification\n  loss: cee\n"
                                      "c:\n  data_format: PremiseOnly\n  task_type: Clasification\n")
    output = ws.fails(["validate", path], "3 problem(s)", f"{path}:4: a.lables", f"{path}:8: b.loss", f"{path}:11: c.task_type")
    assert output.count("did you mean") == 3


def test_a_file_that_is_not_utf8(ws):
    path = ws.write(ws.root / "bad.yml", "t:\n  description: caf\xe9\n".encode("latin-1"), binary=True)
    ws.fails(["validate", path], f"{path}: not UTF-8 text")


def test_a_file_that_does_not_exist(ws):
    ws.fails(["validate", ws.root / "nope.yml"], "nope.yml: no such file")


def test_a_bad_task_file_given_to_train(ws):
    path = ws.write(ws.root / "bad.yml", BASE + "  loss: ce2\n")
    args = ws.train("t")
    args[args.index("--task-def") + 1] = str(path)
    ws.fails(args, "t.loss: no loss 'ce2'")
