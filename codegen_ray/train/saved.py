"""A checkpoint as soon as Ray Train has persisted it, for callers that evaluate while training goes on.

:func:`~codegen_ray.train.trainer.train_variant` takes an ``on_checkpoint`` callable; a Ray Train ``UserCallback``
(:func:`forwarding_callback`) calls it in the Train controller after every report that carries a checkpoint, with a
:class:`SavedCheckpoint`: the checkpoint's metrics and where it lies in the run's storage (``ray.storage_path`` or the
variant's output directory), persisted completely by then. It protects against evaluating a half-written adapter:
nothing is announced before Ray Train has finished persisting it.

:func:`materialize` gives a node a local directory of a saved checkpoint: the storage directory itself when it is on
a local filesystem, else a copy under a local cache directory, written under a temporary name and renamed (two
callers racing for the same copy both end up with a complete one).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from ..types import CheckpointRef


@dataclass(frozen=True)
class SavedCheckpoint:
    """One persisted checkpoint: its reference (``adapter_path``: the path in ``filesystem``) and the filesystem
    (a ``pyarrow.fs.FileSystem``; None or a local one: a path on this machine)."""

    ref: CheckpointRef
    filesystem: Any = None

    @property
    def is_local(self) -> bool:
        return self.filesystem is None or type(self.filesystem).__name__ == "LocalFileSystem"


def saved_from_report(variant: str, metrics: dict[str, Any], checkpoint: Any) -> Optional[SavedCheckpoint]:
    """The :class:`SavedCheckpoint` of one Ray Train report (rank 0's ``metrics``: step, epoch, losses), None when
    the report carried no checkpoint."""
    if checkpoint is None or "step" not in metrics:
        return None
    ref = CheckpointRef(variant=variant, step=int(metrics["step"]), epoch=int(metrics["epoch"]),
                        adapter_path=str(checkpoint.path), train_loss=metrics.get("train_loss"),
                        val_loss=metrics.get("val_loss"))
    return SavedCheckpoint(ref, checkpoint.filesystem)


def forwarding_callback(variant: str, on_checkpoint: Callable[[SavedCheckpoint], None]) -> Any:
    """A Ray Train ``UserCallback`` that hands every persisted checkpoint of ``variant`` to ``on_checkpoint`` (which
    must pickle: the callback runs in the Train controller)."""
    from ray.train import UserCallback

    class _ForwardCheckpoints(UserCallback):
        def after_report(self, run_context: Any, metrics: list[dict[str, Any]], checkpoint: Any) -> None:
            saved = saved_from_report(variant, metrics[0] if metrics else {}, checkpoint)
            if saved is not None:
                on_checkpoint(saved)

    return _ForwardCheckpoints()


def materialize(saved: SavedCheckpoint, cache_dir: Path) -> CheckpointRef:
    """``saved`` with an ``adapter_path`` on this machine: its own directory when local, else a copy fetched into
    ``cache_dir / <checkpoint name>`` (reused when complete)."""
    if saved.is_local:
        return saved.ref
    from ray.train import Checkpoint

    dest = Path(cache_dir) / Path(saved.ref.adapter_path).name
    if not dest.is_dir():
        tmp = dest.with_name(f"{dest.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.parent.mkdir(parents=True, exist_ok=True)
        Checkpoint(saved.ref.adapter_path, filesystem=saved.filesystem).to_directory(str(tmp))
        try:
            tmp.rename(dest)
        except OSError:  # another caller's complete copy got there first
            shutil.rmtree(tmp, ignore_errors=True)
            if not dest.is_dir():
                raise
    return CheckpointRef(variant=saved.ref.variant, step=saved.ref.step, epoch=saved.ref.epoch,
                         adapter_path=str(dest), train_loss=saved.ref.train_loss, val_loss=saved.ref.val_loss)
