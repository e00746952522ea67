"""Bad options and training configs: caught before any model is loaded, each naming its key."""


def test_values_out_of_range(ws):
    ws.fails(ws.train("pair", "--batch-size", "0"), "batch_size: Input should be greater than or equal to 1")
    ws.fails(ws.train("pair", "--lr", "-1"), "lr: Input should be greater than 0")


def test_unknown_set_key_with_suggestion(ws):
    ws.fails(ws.train("pair", "--set", "batchsize=3"), "batchsize: unknown key; did you mean 'batch_size'?")


def test_malformed_set_value(ws):
    ws.fails(ws.train("pair", "--set", "task_overrides={pair: [unclosed"), "--set task_overrides=", "not valid YAML")


def test_set_without_a_value(ws):
    ws.fails(ws.train("pair", "--set", "lr"), "--set lr: expected KEY=VALUE")


def test_config_that_is_not_a_mapping(ws):
    path = ws.write(ws.root / "run.yml", "- tasks\n- pair\n")
    ws.fails(ws.train("pair", "--config", path), f"{path}: a training config is a mapping of keys")


def test_config_that_does_not_exist(ws):
    ws.fails(ws.train("pair", "--config", ws.root / "nope.yml"), "nope.yml: no such file")


def test_config_with_an_unknown_key_names_its_line(ws):
    path = ws.write(ws.root / "run.yml", "tasks: [pair]\nbatchsize: 4\n")
    ws.fails(["train", "--config", path, "--task-def", ws.tasks, "--data-dir", ws.data], f"{path}:2: batchsize: unknown key")


def test_config_with_a_duplicate_key(ws):
    path = ws.write(ws.root / "run.yml", "tasks: [pair]\nlr: 0.1\nlr: 0.2\n")
    ws.fails(["train", "--config", path], f"{path}:3: lr: duplicate key (first at line 2)")


def test_devices(ws):
    ws.fails(ws.train("pair", "--device", "foo"), "--device foo: not a device")
    ws.fails(ws.train("pair", "--device", "cuda"), "--device cuda: CUDA is not available")


def test_max_length_beyond_the_encoder(ws):
    ws.fails(ws.train("pair", "--max-seq-len", "1024"), "max_seq_len 1024: above the 512 positions", "--max-seq-len 512")


def test_misspelt_encoder_fails_at_once(ws):
    ws.fails(ws.train("pair", "--encoder", "tiny-random-bertt"), "encoder 'tiny-random-bertt'", "did you mean 'tiny-random-bert'?")
    ws.fails(ws.train("pair", "--encoder", "no such model!"), "not a valid hub name")


def test_output_dir_that_is_a_file(ws):
    ws.write(ws.out, "x")
    ws.run_existed = True
    ws.fails(ws.train("pair"), f"--output-dir {ws.out}: exists and is not a directory")


def test_unknown_task_and_components(ws):
    ws.fails(ws.train("pairr"), "no task 'pairr'; did you mean 'pair'?")
    ws.fails(ws.train("pair", "--optimizer", "adamww"), "no optimizer 'adamww'; did you mean 'adamw'?")
    ws.fails(ws.train("pair", "--sampler", "temprature"), "no sampler 'temprature'; did you mean 'temperature'?")
    ws.fails(ws.train("pair", "--set", "task_overrides={reg: {dropout_p: 0.2}}"), "task_overrides: 'reg' is not one of the run's tasks")


def test_unknown_plugin(ws, installed_plugin):
    installed_plugin("nli", "")
    ws.fails(["train", "--plugin", "nil", "--tasks", "pair"], "no plugin 'nil' is installed; did you mean 'nli'?")
