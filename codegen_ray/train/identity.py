"""What determines a variant's training run, defined once: :func:`training_identity`.

The sweep's training key (``sweep.keys``, the ``training/<key>/<variant>`` directory) and the trainer's run
fingerprint (``run.json``, each checkpoint's ``meta.json``) are both its :attr:`TrainingIdentity.key`, so they cannot
disagree. What is in it:

* the base model: the builtin model by the sha256 of its manifest (which lists every shipped file's sha256), any other
  by name (or path) and revision; ``trust_remote_code``; the dtype training runs in (``model.dtype``, with ``auto``
  resolved by ``training.use_gpu``);
* LoRA, and the training hyperparameters the variant uses (overrides applied) without the resource settings
  (``config.RESOURCE``: CPUs and GPUs per worker, ``use_gpu``, ``max_failures``). ``num_workers`` stays: it sets the
  global batch;
* the variant's data: a local file (or a ``builtin:`` dataset) by the sha256 of its bytes and its suffix (which picks
  the parser), never its path; a hub dataset by name, split and revision; plus the name, format, field map, system
  prompt and ``max_samples``;
* the split (``data.val_fraction``, ``test_fraction``, ``split_seed``, ``bad_rows``) and the rows left out (by line,
  not by path).

A local base model directory is keyed by its path, not its content: hashing gigabytes of weights on every plan would
cost more than it protects (put a changed model under a new path).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..builtin import BUILTIN_TINY_MODEL, BUILTIN_TINY_MODEL_MANIFEST
from ..config import SweepConfig, VariantConfig, stable_hash, without_resources
from ..errors import DataError
from ..fileio import file_sha256
from .data import resolve_variant_source
from .lora import resolve_dtype


@dataclass(frozen=True)
class TrainingIdentity:
    """Everything that determines one variant's training run, as plain JSON values; :attr:`key` hashes it."""

    model: dict[str, Any]
    lora: dict[str, Any]
    training: dict[str, Any]
    data: dict[str, Any]
    split: dict[str, Any]
    excluded_rows: tuple[str, ...]  # the line (or row number) of each row left out, sorted

    @property
    def key(self) -> str:
        """12 hex digits: the directory name under ``training/`` and the fingerprint in ``run.json``."""
        return stable_hash(dataclasses.asdict(self))


def training_identity(cfg: SweepConfig, variant: VariantConfig,
                      exclude_sources: frozenset[str] = frozenset()) -> TrainingIdentity:
    """The identity of ``variant``'s training run under ``cfg``; ``exclude_sources`` are the ``file:line`` sources of
    the rows left out (``ChatExample.source``). Reads the variant's data file once to hash it."""
    tc = cfg.training_for(variant)
    return TrainingIdentity(
        model={**model_identity(cfg), "trust_remote_code": cfg.model.trust_remote_code,
               "dtype": resolve_dtype(cfg.model.dtype, tc.use_gpu)},
        lora=without_resources(cfg.lora),
        training=without_resources(tc),
        data=data_identity(cfg, variant),
        split={"val_fraction": cfg.data.val_fraction, "test_fraction": cfg.data.test_fraction,
               "split_seed": cfg.data.split_seed, "bad_rows": cfg.data.bad_rows},
        excluded_rows=tuple(sorted(source.rsplit(":", 1)[-1] for source in exclude_sources)),
    )


def training_key(cfg: SweepConfig, variant: VariantConfig, exclude_sources: frozenset[str] = frozenset()) -> str:
    """``training_identity(...).key``: where the variant's run lives and what its checkpoints are stamped with."""
    return training_identity(cfg, variant, exclude_sources).key


def model_identity(cfg: SweepConfig) -> dict[str, Any]:
    """The base model's weights and tokenizer: the builtin model by its manifest's sha256, others by name and
    revision."""
    if cfg.model.name_or_path == BUILTIN_TINY_MODEL:
        return {"builtin": BUILTIN_TINY_MODEL, "manifest_sha256": _sha256(BUILTIN_TINY_MODEL_MANIFEST)}
    return {"name_or_path": cfg.model.name_or_path, "revision": cfg.model.revision}


def data_identity(cfg: SweepConfig, variant: VariantConfig) -> dict[str, Any]:
    """A variant's rows: a local file by its bytes (a moved copy is the same data, an edit in place is not), a hub
    dataset by name, split and revision; then how the rows are read."""
    _display, local = resolve_variant_source(cfg, variant)
    if local is None:
        source = {"hub": variant.path, "split": variant.split, "revision": variant.revision}
    else:
        source = {"sha256": _sha256(local), "suffix": local.suffix.lower()}
    return {"name": variant.name, "source": source, "format": variant.format, "field_map": dict(variant.field_map),
            "system_prompt": variant.system_prompt, "max_samples": variant.max_samples}


def _sha256(path) -> str:
    try:
        return file_sha256(path)
    except OSError as err:
        raise DataError(str(path), f"cannot read: {err.strerror or err}") from None
