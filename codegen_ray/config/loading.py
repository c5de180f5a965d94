"""Reading a config: YAML (or a mapping) → the typed :class:`~codegen_ray.config.schema.SweepConfig`, with
``section.key=value`` overrides, strictly checked: an unknown key or a wrong type raises ConfigError naming it."""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from ..errors import ConfigError
from .schema import SweepConfig

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent.parent / "experiments" / "configs" / "default.yaml"


# ------------------------------------------------------------------------------------------------ dict → dataclass
def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp`` (a small, strict subset of typing) and build dataclasses."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except ConfigError as err:
                errors.append(err)
        raise errors[0] if errors else ConfigError(key, "must not be null")
    if origin is Literal:
        if value not in args:
            raise ConfigError(key, f"must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a mapping, got {type(value).__name__}")
        return _build(tp, value, key)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(key, f"expected a list, got {type(value).__name__}")
        return [_coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a mapping, got {type(value).__name__}")
        return {str(k): _coerce(v, args[1], f"{key}.{k}") for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str) and re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+", value.strip()):
            value = float(value)  # YAML 1.1 reads 1e-3 (no dot) as a string
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(key, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if isinstance(value, (dict, list)) or value is None:
            raise ConfigError(key, f"expected a string, got {value!r}")
        return str(value)
    raise ConfigError(key, f"unsupported type {_type_name(tp)}")  # pragma: no cover - a bug in this module


def _yaml_fields(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls) if f.metadata.get("yaml", True)}


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    fields = _yaml_fields(cls)
    hints = typing.get_type_hints(cls)
    for k in data:
        if k not in fields:
            key = f"{prefix}.{k}" if prefix else str(k)
            raise ConfigError(key, f"unknown key (known: {', '.join(fields)})")
    kwargs = {}
    for name, value in data.items():
        key = f"{prefix}.{name}" if prefix else name
        kwargs[name] = _coerce(value, hints[name], key)
    return cls(**kwargs)


def config_from_dict(data: dict[str, Any], source_path: str | None = None) -> SweepConfig:
    """Build and validate a :class:`SweepConfig` from a plain mapping (e.g. parsed YAML)."""
    if not isinstance(data, dict):
        raise ConfigError("<root>", "the config must be a mapping of sections")
    cfg = _build(SweepConfig, data, "")
    cfg.source_path = source_path
    return cfg.validate()


# ------------------------------------------------------------------------------------------------------ overrides
def _parse_scalar(text: str) -> Any:
    if not text.strip():
        return ""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one ``section.key=value`` (``data.variants[0].path=x`` indexes lists) to a raw config mapping."""
    if "=" not in assignment:
        raise ConfigError(assignment, "an override must look like section.key=value")
    dotted, raw = assignment.split("=", 1)
    dotted = dotted.strip()
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", dotted)
    if not parts or "".join(p if p.startswith("[") else "." + p for p in parts).lstrip(".") != dotted:
        raise ConfigError(dotted or assignment, "malformed override key")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if part.startswith("["):
            idx = int(part[1:-1])
            if not isinstance(node, list) or idx >= len(node):
                raise ConfigError(dotted, f"index {idx} out of range")
            node = node[idx]
        else:
            if not isinstance(node, dict):
                raise ConfigError(dotted, "cannot set a key inside a non-mapping")
            node = node.setdefault(part, [] if nxt.startswith("[") else {})
    last = parts[-1]
    value = _parse_scalar(raw)
    if last.startswith("["):
        idx = int(last[1:-1])
        if not isinstance(node, list) or idx >= len(node):
            raise ConfigError(dotted, f"index {idx} out of range")
        node[idx] = value
    else:
        if not isinstance(node, dict):
            raise ConfigError(dotted, "cannot set a key inside a non-mapping")
        node[last] = value


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | tuple[str, ...] = ()) -> SweepConfig:
    """Load YAML (the embedded default when ``path`` is None), apply overrides, validate. Raises ConfigError."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError("--config", f"no such file: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ConfigError("--config", f"{path} is not valid YAML: {err}") from None
    data = copy.deepcopy(data)
    for assignment in overrides:
        apply_override(data, assignment)
    return config_from_dict(data, source_path=str(path.resolve()))
