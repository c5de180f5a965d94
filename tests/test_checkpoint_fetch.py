"""A generation actor on a node without a checkpoint's ``adapter_path`` fetches it from ``ray.storage_path``
(``generation.checkpoints``), here with a real local directory as the storage (no Ray, no mocks): the copy is byte
for byte the stored one, and a second load on the node reads the cache, not the storage."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from codegen_ray.generation.checkpoints import cached_path, default_cache_root, local_checkpoint
from codegen_ray.types import CheckpointRef, checkpoint_dir_name


def _stored_checkpoint(storage: Path, nested: bool = False) -> Path:
    """A checkpoint directory laid out as the trainer's storage run: <storage>/<variant>-<fingerprint>/<checkpoint>,
    flat as the trainer writes it (``nested``: with a subdirectory too)."""
    ckpt = storage / "deep-0123456789ab" / checkpoint_dir_name(2, 1)
    ckpt.mkdir(parents=True)
    (ckpt / "adapter_model.safetensors").write_bytes(os.urandom(4096) + b"\0" * 100)
    (ckpt / "adapter_config.json").write_text('{"r": 8}')
    if nested:
        (ckpt / "sub").mkdir()
        (ckpt / "sub" / "optimizer.pt").write_bytes(os.urandom(1000))
    return ckpt


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_a_missing_adapter_path_is_fetched_from_storage_and_then_read_from_the_cache(tmp_path, nested):
    stored = _stored_checkpoint(tmp_path / "storage", nested)
    expected = _files(stored)
    ref = CheckpointRef(variant="deep", step=2, epoch=1, adapter_path=str(tmp_path / "other-node" / stored.name),
                        storage_uri=str(stored))
    cache = tmp_path / "cache"

    local = local_checkpoint(ref, cache)
    assert local.adapter_path != ref.adapter_path and Path(local.adapter_path) == cached_path(str(stored), cache)
    assert Path(local.adapter_path).name == stored.name  # the backends name an adapter by its directory
    assert _files(Path(local.adapter_path)) == expected  # byte-identical, subdirectories too
    assert (local.variant, local.step, local.epoch, local.key) == (ref.variant, ref.step, ref.epoch, ref.key)
    assert [p.name for p in Path(local.adapter_path).parent.iterdir()] == [stored.name]  # no temporary left

    shutil.rmtree(tmp_path / "storage")  # the second load does not touch storage
    again = local_checkpoint(ref, cache)
    assert again == local and _files(Path(again.adapter_path)) == expected


def test_file_uri_storage_is_fetched_too(tmp_path):
    stored = _stored_checkpoint(tmp_path / "storage")
    ref = CheckpointRef(variant="deep", step=2, epoch=1, adapter_path=str(tmp_path / "gone"),
                        storage_uri=f"file://{stored}")
    local = local_checkpoint(ref, tmp_path / "cache")
    assert _files(Path(local.adapter_path)) == _files(stored)


def test_an_existing_adapter_path_the_base_model_and_no_storage_are_left_alone(tmp_path):
    stored = _stored_checkpoint(tmp_path / "storage")
    here = CheckpointRef(variant="deep", step=2, epoch=1, adapter_path=str(stored), storage_uri="/nonexistent/x")
    base = CheckpointRef(variant="base", step=0, epoch=0)
    no_storage = CheckpointRef(variant="deep", step=2, epoch=1, adapter_path=str(tmp_path / "gone"))
    for ref in (here, base, no_storage):
        assert local_checkpoint(ref, tmp_path / "cache") is ref
    assert not (tmp_path / "cache").exists()


def test_a_checkpoint_missing_from_storage_is_an_error_naming_it(tmp_path):
    ref = CheckpointRef(variant="deep", step=2, epoch=1, adapter_path=str(tmp_path / "gone"),
                        storage_uri=str(tmp_path / "storage" / "deep-x" / "checkpoint-step-2-epoch-1"))
    with pytest.raises(FileNotFoundError, match="checkpoint-step-2-epoch-1"):
        local_checkpoint(ref, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_the_default_cache_is_under_codegen_ray_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("CODEGEN_RAY_CACHE", str(tmp_path))
    assert default_cache_root() == tmp_path / "checkpoints"
