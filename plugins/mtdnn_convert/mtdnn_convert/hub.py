"""``--push-to-hub``: upload a finished export with ``huggingface_hub``. Offline, or without a
token, it fails with a message saying so; the export on disk is complete either way."""
from __future__ import annotations

import os
from pathlib import Path

from mtdnn_convert.errors import ConversionError

OFFLINE_VALUES = ("1", "on", "yes", "true")


def push_to_hub(folder: Path, repo: str, private: bool = False) -> str:
    later = f"the export in {folder} is complete; push it later with `hf upload {repo} {folder}`"
    try:
        from huggingface_hub import HfApi, get_token
    except ImportError:
        raise ConversionError(f"--push-to-hub needs huggingface_hub (pip install 'mtdnn-convert[hub]'); {later}") from None
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in OFFLINE_VALUES:
        raise ConversionError(f"cannot push to {repo}: HF_HUB_OFFLINE is set; {later}")
    token = get_token()
    if not token:
        raise ConversionError(f"cannot push to {repo}: no Hugging Face token (run `hf auth login` or set HF_TOKEN); {later}")
    try:
        api = HfApi(token=token)
        api.create_repo(repo, private=private, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo, commit_message="Upload a task model exported by mtdnn")
    except Exception as exc:  # network, authentication and hub errors; their types differ across versions
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConversionError(f"could not push to {repo}: {first}; {later}") from None
    return f"https://huggingface.co/{repo}"
