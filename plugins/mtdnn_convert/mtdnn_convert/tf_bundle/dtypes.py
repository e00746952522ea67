"""TensorFlow ``DataType`` enum values and their torch equivalents (numeric types only)."""
from __future__ import annotations

import torch

TF_TO_TORCH = {
    1: torch.float32,   # DT_FLOAT
    2: torch.float64,   # DT_DOUBLE
    3: torch.int32,     # DT_INT32
    4: torch.uint8,     # DT_UINT8
    5: torch.int16,     # DT_INT16
    6: torch.int8,      # DT_INT8
    9: torch.int64,     # DT_INT64
    10: torch.bool,     # DT_BOOL
    14: torch.bfloat16,  # DT_BFLOAT16
    19: torch.float16,  # DT_HALF
}
TORCH_TO_TF = {v: k for k, v in TF_TO_TORCH.items()}
TF_NAMES = {7: "string", 8: "complex64", 18: "complex128", 20: "resource", 21: "variant", 17: "uint16",
            22: "uint32", 23: "uint64", 11: "qint8", 12: "quint8", 13: "qint32", 15: "qint16", 16: "quint16"}


def tf_dtype_name(code: int) -> str:
    torch_dtype = TF_TO_TORCH.get(code)
    return str(torch_dtype).removeprefix("torch.") if torch_dtype else TF_NAMES.get(code, f"DataType {code}")
