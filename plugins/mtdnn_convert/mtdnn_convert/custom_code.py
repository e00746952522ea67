"""Heads without a transformers class, exported as a transformers custom-code model.

The export directory holds ``modeling_mtdnn.py`` (the encoder wrapper of
:mod:`mtdnn_convert.remote_code.modeling_mtdnn` followed by the head's own source, from the
``export_head`` hook), a ``config.json`` whose ``model_type`` transformers does not know and whose
``auto_map`` names those classes (so loading without ``trust_remote_code=True`` fails instead of
building a random head), and ``model.safetensors`` with ``encoder.*`` and ``head.*`` weights.
Sequence-labelling and span exports also carry ``pipeline_mtdnn.py``, the token-classification
or question-answering pipeline that windows and decodes as ``mtdnn predict`` does.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mtdnn_convert.remote_code import source

MODELING, PIPELINE, HEAD_PIPELINE = "modeling_mtdnn", "pipeline_mtdnn", "pipeline_head"
MODEL_CLASSES = {  # pipeline tag -> (Auto class, class in modeling_mtdnn.py)
    "text-classification": ("AutoModelForSequenceClassification", "MtdnnForSequenceClassification"),
    "token-classification": ("AutoModelForTokenClassification", "MtdnnForTokenClassification"),
    "question-answering": ("AutoModelForQuestionAnswering", "MtdnnForQuestionAnswering"),
}
PIPELINES = {  # pipeline tag -> the export's own pipeline for it (mtdnn's windowing and decoding)
    "token-classification": {"impl": f"{PIPELINE}.MtdnnTokenClassificationPipeline",
                             "pt": ["AutoModelForTokenClassification"], "tf": [], "type": "text"},
    "question-answering": {"impl": f"{PIPELINE}.MtdnnQuestionAnsweringPipeline",
                           "pt": ["AutoModelForQuestionAnswering"], "tf": [], "type": "text"},
}
_FUTURE = re.compile(r"^from __future__ import .*$", re.MULTILINE)


def modeling_source(head_source: str) -> str:
    """The wrapper and the head's source as one module (a ``__future__`` import may only open a
    file, so the head's is dropped)."""
    return source(MODELING).rstrip() + "\n\n\n# ---- the task head ----\n" + _FUTURE.sub("", head_source).strip() + "\n"


def add_pipeline(directory: Path, config: dict, pipeline_tag: str) -> None:
    """Ship the pipeline that windows and decodes as mtdnn does, registered for ``pipeline_tag``."""
    (directory / f"{PIPELINE}.py").write_text(source(PIPELINE), encoding="utf-8")
    config["custom_pipelines"] = {pipeline_tag: PIPELINES[pipeline_tag]}


def write_custom_model(directory: Path, encoder: nn.Module, spec: Any, labels: dict[int, str], problem_type: str | None,
                       tokenizer: Any, use_token_types: bool, max_len: int) -> tuple[str, str]:
    """Write config, modeling source and weights of ``encoder`` + the head ``spec`` describes;
    returns the Auto class that loads it and the model class."""
    from safetensors.torch import save_file

    auto_class, model_class = MODEL_CLASSES.get(spec.pipeline_tag, ("AutoModel", "MtdnnModel"))
    config = {
        "model_type": "mtdnn-export",
        "architectures": [model_class],
        "auto_map": {"AutoConfig": f"{MODELING}.MtdnnExportConfig", auto_class: f"{MODELING}.{model_class}"},
        "encoder": encoder.config.to_dict(),
        "head_class": spec.head_class,
        "head_settings": spec.settings,
        "special_token_ids": sorted(set(tokenizer.all_special_ids)),
        "use_token_types": use_token_types,
        "max_seq_len": max_len,
        "id2label": {str(k): v for k, v in labels.items()},
        "label2id": {v: k for k, v in labels.items()},
        "problem_type": problem_type,
    }
    if spec.pipeline_source is not None:  # the head's own pipeline
        (directory / f"{HEAD_PIPELINE}.py").write_text(spec.pipeline_source, encoding="utf-8")
        config["custom_pipelines"] = {spec.pipeline_tag: {"impl": f"{HEAD_PIPELINE}.{spec.pipeline_class}",
                                                          "pt": [auto_class], "tf": [], "type": "text"}}
    elif spec.pipeline_tag in PIPELINES:
        add_pipeline(directory, config, spec.pipeline_tag)
    (directory / f"{MODELING}.py").write_text(modeling_source(spec.source), encoding="utf-8")
    (directory / "config.json").write_text(json.dumps(config, indent=2, default=str) + "\n", encoding="utf-8")
    weights = {f"encoder.{k}": v for k, v in encoder.state_dict().items()}
    weights.update({f"head.{k}": torch.as_tensor(v) for k, v in spec.weights.items()})
    save_file({k: v.detach().cpu().contiguous().clone() for k, v in weights.items()}, str(directory / "model.safetensors"),
              metadata={"format": "pt"})
    return auto_class, model_class


def load_custom_model(directory: Path, model_class: str) -> nn.Module:
    """The written export, built by its own code and loaded from its files (as transformers
    loads it with ``trust_remote_code``, but without copying the code into transformers' module
    cache: a staged directory's random name would stay there), refusing weights that do not fit."""
    import importlib.util
    import sys
    import uuid

    from mtdnn_convert.errors import ConversionError

    name = f"mtdnn_export_check_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, directory / f"{MODELING}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # transformers looks a model's module up by name
    try:
        spec.loader.exec_module(module)
        model, info = getattr(module, model_class).from_pretrained(directory, output_loading_info=True)
    finally:
        del sys.modules[name]
    bad = [*info.get("missing_keys", []), *info.get("unexpected_keys", []), *info.get("mismatched_keys", [])]
    if bad:
        raise ConversionError(f"{directory}: the exported weights do not fit the exported code ({', '.join(map(str, bad[:5]))})")
    return model.eval()
