"""A checkpoint as soon as Ray Train has persisted it, for callers that evaluate while training goes on.

:func:`~codegen_ray.train.trainer.train_variant` takes an ``on_checkpoint`` callable; a Ray Train ``UserCallback``
(:func:`forwarding_callback`) calls it in the Train controller after every report that carries a checkpoint, with the
checkpoint's :class:`~codegen_ray.types.CheckpointRef`: its metrics, and where it lies. It protects against
evaluating a half-written adapter: nothing is announced before Ray Train has finished persisting it.

Where it lies: in storage on a local filesystem (no ``ray.storage_path``: the variant's output directory; or a
local/NFS storage path) ``adapter_path`` is that directory. In remote storage (``s3://...``) ``adapter_path`` is where
the trainer will copy it under the output directory after the fit, and ``storage_uri`` is where it is now: a node
without the local copy fetches it from there (``generation.checkpoints.local_checkpoint``), as it does for a finished
training's checkpoints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

from ..types import CheckpointRef


def ref_from_report(variant: str, metrics: dict[str, Any], checkpoint: Any, local_dir: Path,
                    run_uri: Optional[str]) -> Optional[CheckpointRef]:
    """The :class:`CheckpointRef` of one Ray Train report (rank 0's ``metrics``: step, epoch, losses; the persisted
    ``checkpoint``: path and pyarrow filesystem), None when the report carried no checkpoint. ``local_dir``: where
    the trainer keeps its local copies; ``run_uri``: the run's directory in ``ray.storage_path`` (None without)."""
    if checkpoint is None or "step" not in metrics:
        return None
    name = Path(str(checkpoint.path)).name
    local = checkpoint.filesystem is None or type(checkpoint.filesystem).__name__ == "LocalFileSystem"
    return CheckpointRef(variant=variant, step=int(metrics["step"]), epoch=int(metrics["epoch"]),
                         adapter_path=str(checkpoint.path) if local else str(Path(local_dir) / name),
                         train_loss=metrics.get("train_loss"), val_loss=metrics.get("val_loss"),
                         storage_uri=f"{run_uri}/{name}" if run_uri else None)


def forwarding_callback(variant: str, on_checkpoint: Callable[[CheckpointRef], None], local_dir: Path,
                        run_uri: Optional[str]) -> Any:
    """A Ray Train ``UserCallback`` that hands every persisted checkpoint of ``variant`` to ``on_checkpoint`` (which
    must pickle: the callback runs in the Train controller)."""
    from ray.train import UserCallback

    class _ForwardCheckpoints(UserCallback):
        def after_report(self, run_context: Any, metrics: list[dict[str, Any]], checkpoint: Any) -> None:
            ref = ref_from_report(variant, metrics[0] if metrics else {}, checkpoint, local_dir, run_uri)
            if ref is not None:
                on_checkpoint(ref)

    return _ForwardCheckpoints()
