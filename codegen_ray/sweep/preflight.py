"""Preflight checks that fail fast, before Ray starts: the output directory, the Ray address, the model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from ..config import SweepConfig
from ..errors import ConfigError


def check_output_writable(root: Path) -> None:
    root = root.expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-probe-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        raise ConfigError("output.root", f"{root} is not writable: {err.strerror or err}") from None


def check_ray_address(address: Optional[str], timeout_s: float = 5.0) -> None:
    """A cluster to join must answer now: ``ray.init`` would otherwise retry an unreachable address for minutes."""
    if not address or address == "local":
        return
    target: Optional[str] = address
    if address == "auto":
        try:
            from ray._private.services import canonicalize_bootstrap_address

            target = canonicalize_bootstrap_address("auto")
        except Exception as err:  # noqa: BLE001 - Ray raises ConnectionError/ValueError variants here
            raise ConfigError("ray.address", f"auto: no running Ray cluster found ({str(err).splitlines()[0]})") from None
        if target is None:
            raise ConfigError("ray.address", "auto: no running Ray cluster found (start one with `ray start --head`)")
    if "://" in target and not target.startswith("ray://"):
        return  # another scheme (e.g. a hosted service): Ray resolves it
    hostport = target.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError("ray.address", f"expected auto, host:port or ray://host:port, got {address!r}")
    import socket

    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as err:
        raise ConfigError("ray.address", f"cannot reach Ray at {address!r} ({host}:{port}: "
                          f"{err.strerror or type(err).__name__})") from None


def check_model(cfg: SweepConfig, model_path: str) -> None:
    """The tokenizer has a chat template and every LoRA target module exists (meta device, no weights loaded)."""
    from transformers import AutoTokenizer

    from ..train import check_model as check_lora_targets
    from ..train.tokenize import check_chat_template

    try:
        tok = AutoTokenizer.from_pretrained(model_path, revision=cfg.model.revision,
                                            trust_remote_code=cfg.model.trust_remote_code)
    except (OSError, ValueError) as err:
        raise ConfigError("model.name_or_path", f"cannot load {model_path!r}: {str(err).splitlines()[0]}") from None
    check_chat_template(tok, cfg.model.name_or_path)
    check_lora_targets(model_path, cfg)
