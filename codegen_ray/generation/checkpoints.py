"""Checkpoints on a node that does not have them: fetched from ``ray.storage_path`` into a node-local cache.

On a cluster, training writes each checkpoint to shared storage (``CheckpointRef.storage_uri``: a local or NFS path,
or a URI pyarrow opens, e.g. ``s3://bucket/prefix/...`` with ``AWS_ENDPOINT_URL`` and credentials in the
environment, as for Ray) and copies it under the variant's ``output_dir`` on the node that ran the trial
(``CheckpointRef.adapter_path``). A generation actor on another node finds no ``adapter_path``: it copies the
checkpoint's directory from storage with ``pyarrow.fs`` (what Ray Train itself uses) into
``<cache>/checkpoints/<hash of the URI>/<checkpoint dir>`` and loads it from there. The copy is made in a temporary
directory and renamed into place, so a cached directory is always a complete one; a second load on the node reuses it.
A storage run's name carries the training fingerprint (``<variant>-<fingerprint>``), so one URI always holds the same
checkpoint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from pathlib import Path
from typing import Optional

from ..types import CheckpointRef

DEFAULT_CACHE = "~/.cache/codegen_ray"  # model.cache_dir's default; env CODEGEN_RAY_CACHE overrides both


def default_cache_root() -> Path:
    """``$CODEGEN_RAY_CACHE/checkpoints`` (default ``~/.cache/codegen_ray/checkpoints``) on this node."""
    return Path(os.path.expanduser(os.environ.get("CODEGEN_RAY_CACHE", DEFAULT_CACHE))) / "checkpoints"


def local_checkpoint(checkpoint: CheckpointRef, cache_root: Optional[Path] = None) -> CheckpointRef:
    """``checkpoint`` with an ``adapter_path`` that exists on this node: unchanged when it does (or for the base
    model, or without a storage location), else the fetched copy of ``checkpoint.storage_uri``."""
    if checkpoint.adapter_path is None or os.path.isdir(checkpoint.adapter_path) or not checkpoint.storage_uri:
        return checkpoint
    local = fetch_checkpoint(checkpoint.storage_uri, cache_root or default_cache_root())
    return dataclasses.replace(checkpoint, adapter_path=str(local))


def cached_path(uri: str, cache_root: Path) -> Path:
    """Where :func:`fetch_checkpoint` keeps the copy of ``uri``."""
    digest = hashlib.sha256(uri.encode()).hexdigest()[:16]
    return Path(cache_root) / digest / uri.rstrip("/").rsplit("/", 1)[-1]


def fetch_checkpoint(uri: str, cache_root: Path) -> Path:
    """The checkpoint directory ``uri`` copied into ``cache_root`` (once per node: a complete copy is reused).

    Raises FileNotFoundError when storage has no directory there."""
    from pyarrow import fs as pafs

    dest = cached_path(uri, cache_root)
    if dest.is_dir():
        return dest
    src_fs, src_path = pafs.FileSystem.from_uri(uri)
    if src_fs.get_file_info(src_path).type != pafs.FileType.Directory:
        raise FileNotFoundError(f"checkpoint {uri}: no such directory in ray.storage_path")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()  # copy_files creates the subdirectories it copies, not the destination itself
        pafs.copy_files(src_path, str(tmp), source_filesystem=src_fs, destination_filesystem=pafs.LocalFileSystem())
        try:
            tmp.replace(dest)
        except OSError:  # another process on this node finished the same copy first
            if not dest.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
