"""The builtin base model (``builtin:tiny-qwen2``): a small pretrained Qwen2 causal LM that ships with the package.

Nothing can be downloaded from a model hub on CI machines, so the embedded default and the tests use a model the
project makes itself. ``python -m codegen_ray.assets.pretrain`` pretrains it (deterministically, on a corpus generated
from the project's task families) and writes ``codegen_ray/assets/tiny_model/``: fp16 weights, a byte-level BPE
tokenizer with a Qwen-style ChatML template, and ``manifest.json`` with the sha256 of every file.

:func:`ensure_tiny_model` copies those files once into ``<cache_dir>/tiny-qwen2-<manifest hash>`` with the weights
widened to float32, and returns that directory; everything downstream (training, the transformers and vLLM backends)
then loads it through the ordinary ``from_pretrained(path)`` route a hub model such as
``Qwen/Qwen2.5-Coder-1.5B-Instruct`` takes. It protects against two quiet failures: a shipped file that no longer
matches its manifest (refused, naming the file) and a half-written cache directory (built in a temporary directory
and renamed into place).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from .pretrain import CHAT_TEMPLATE, MANIFEST, MODEL_SHAPE, SHIPPED_DIR, WEIGHTS, check_shipped

__all__ = ["CHAT_TEMPLATE", "MODEL_SHAPE", "ensure_tiny_model", "tiny_model_fingerprint"]


def tiny_model_fingerprint(shipped: Path = SHIPPED_DIR) -> str:
    """12 hex digits of the manifest's sha256: it names the cache directory of this exact build."""
    return hashlib.sha256((shipped / MANIFEST).read_bytes()).hexdigest()[:12]


def _widen(src: Path, dst: Path) -> None:
    """Copy the shipped model into ``dst`` with float32 weights (the dtype CPU training and generation use)."""
    import torch
    from safetensors.torch import load_file, save_file

    for path in src.iterdir():
        if path.is_file() and path.name not in (WEIGHTS, MANIFEST):
            shutil.copy2(path, dst / path.name)
    tensors = {k: v.to(torch.float32).contiguous() for k, v in load_file(str(src / WEIGHTS)).items()}
    save_file(tensors, str(dst / WEIGHTS), metadata={"format": "pt"})
    config = json.loads((dst / "config.json").read_text(encoding="utf-8"))
    for key in ("dtype", "torch_dtype"):
        if key in config:
            config[key] = "float32"
    (dst / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def ensure_tiny_model(cache_dir: str | os.PathLike) -> Path:
    """The builtin model's directory under ``cache_dir``, made from the shipped files on first use."""
    cache_dir = Path(os.path.expanduser(str(cache_dir)))
    target = cache_dir / f"tiny-qwen2-{tiny_model_fingerprint()}"
    if (target / "config.json").is_file() and (target / WEIGHTS).is_file():
        return target
    bad = check_shipped()
    if bad:
        raise RuntimeError(f"the shipped builtin model in {SHIPPED_DIR} does not match its {MANIFEST}: "
                           f"{', '.join(bad)} (rebuild it with `python -m codegen_ray.assets.pretrain`)")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tiny-qwen2-", dir=cache_dir))
    try:
        _widen(SHIPPED_DIR, tmp)
        try:
            os.replace(tmp, target)  # atomic publish; a concurrent builder may have won the race
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
