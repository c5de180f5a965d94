"""Names of the builtin assets (``builtin:...`` in a config) and where their shipped files live.

Foundation: stdlib and ``errors`` only, so config validation, the data loader and the benchmark loader can resolve a
builtin name cheaply. The files themselves (``codegen_ray/assets/data/``, ``codegen_ray/assets/tiny_model/``) are
built by the ``assets`` package, which re-exports these names.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError

BUILTIN_TINY_MODEL = "builtin:tiny-qwen2"
BUILTIN_BENCHMARK = "builtin:atcoder-mini"
BUILTIN_DATA_PREFIX = "builtin:"  # builtin:deep / builtin:diverse → shipped JSONL files

DATA_DIR = Path(__file__).resolve().parent / "assets" / "data"

#: builtin:NAME → shipped chat-messages JSONL file
BUILTIN_DATA_NAMES: tuple[str, ...] = ("deep", "diverse")

#: The mini benchmark (LiveCodeBench record schema), what ``builtin:atcoder-mini`` resolves to.
BUILTIN_BENCHMARK_PATH: Path = DATA_DIR / "atcoder_mini.jsonl"

#: The shipped builtin model (``builtin:tiny-qwen2``) and its manifest, which lists the sha256 of every file: the
#: manifest's bytes identify the model's content (the result keys hash them).
BUILTIN_TINY_MODEL_DIR: Path = DATA_DIR.parent / "tiny_model"
BUILTIN_TINY_MODEL_MANIFEST: Path = BUILTIN_TINY_MODEL_DIR / "manifest.json"


def builtin_data_path(name: str) -> Path:
    """Path of a shipped training dataset: ``deep`` or ``diverse`` (a ``builtin:`` prefix is accepted)."""
    key = name[len(BUILTIN_DATA_PREFIX):] if name.startswith(BUILTIN_DATA_PREFIX) else name
    if key not in BUILTIN_DATA_NAMES:
        raise ConfigError(
            "data.variants[].path",
            f"unknown builtin dataset {name!r}; choose one of " + ", ".join(f"builtin:{n}" for n in BUILTIN_DATA_NAMES),
        )
    return DATA_DIR / f"{key}.jsonl"
