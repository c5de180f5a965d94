"""Builtin assets of the embedded default: two instruction datasets and the mini benchmark (files shipped in
``codegen_ray/assets/data/``), and the builtin base model: pretrained by ``pretrain.py``, shipped in ``tiny_model/``,
copied into the cache by ``tiny_model.py``.

No heavy imports here: resolving a builtin path must stay cheap for config validation.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError

DATA_DIR = Path(__file__).resolve().parent / "data"

#: builtin:NAME → shipped chat-messages JSONL file
BUILTIN_DATA_NAMES: tuple[str, ...] = ("deep", "diverse")

#: The mini benchmark (LiveCodeBench record schema), what ``builtin:atcoder-mini`` resolves to.
BUILTIN_BENCHMARK_PATH: Path = DATA_DIR / "atcoder_mini.jsonl"


def builtin_data_path(name: str) -> Path:
    """Path of a shipped training dataset: ``deep`` or ``diverse`` (a ``builtin:`` prefix is accepted)."""
    key = name[len("builtin:"):] if name.startswith("builtin:") else name
    if key not in BUILTIN_DATA_NAMES:
        raise ConfigError(
            "data.variants[].path",
            f"unknown builtin dataset {name!r}; choose one of " + ", ".join(f"builtin:{n}" for n in BUILTIN_DATA_NAMES),
        )
    return DATA_DIR / f"{key}.jsonl"


__all__ = ["BUILTIN_BENCHMARK_PATH", "BUILTIN_DATA_NAMES", "DATA_DIR", "builtin_data_path"]
