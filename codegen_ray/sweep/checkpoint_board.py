"""Where a pipelined sweep's training announces checkpoints and its evaluation trials wait for them.

One :class:`CheckpointBoard` per sweep, a Ray actor (no CPUs) that training trials and evaluation trials share by
handle, as they share the generation and execution pools:

* the training side **publishes** each checkpoint (a ``CheckpointRef``) once Ray Train has persisted it
  (``train.saved``; a training reused from an earlier sweep publishes all of its checkpoints at once) and **ends** its
  variant when its training returns or fails;
* an evaluation trial **waits** for one planned checkpoint (variant, step, epoch) and gets it, or learns that its
  variant's training ended without it (a plan that differed from what the trainer wrote, or a failed training), so no
  trial waits for ever.

It protects against an evaluation trial that hangs on a checkpoint that will never come, and against evaluating one
before it is completely in storage. The first announcement of a checkpoint wins (a later one, e.g. the local copy
the trainer makes after the fit, is the same adapter).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Optional

from ..types import CheckpointRef


@dataclass(frozen=True)
class BoardAnswer:
    """What a wait ended with: the checkpoint, or why there is none."""

    ref: Optional[CheckpointRef] = None
    ended_without: str = ""  # set when the variant's training ended without this checkpoint


class CheckpointBoard:
    """Published checkpoints by (variant, step, epoch); ended variants with their error ('' when training ended
    normally). Plain class with async methods; :func:`start_board` makes it a Ray actor."""

    def __init__(self) -> None:
        self._saved: dict[tuple[str, int, int], CheckpointRef] = {}
        self._ended: dict[str, str] = {}
        self._cond: Optional[asyncio.Condition] = None

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:  # created in the event loop that runs the methods
            self._cond = asyncio.Condition()
        return self._cond

    async def publish(self, ref: CheckpointRef) -> None:
        async with self._condition():
            self._saved.setdefault((ref.variant, ref.step, ref.epoch), ref)
            self._condition().notify_all()

    async def end(self, variant: str, error: str = "") -> None:
        async with self._condition():
            self._ended.setdefault(variant, error)
            self._condition().notify_all()

    async def wait(self, variant: str, step: int, epoch: int) -> BoardAnswer:
        key = (variant, step, epoch)
        async with self._condition():
            await self._condition().wait_for(lambda: key in self._saved or variant in self._ended)
            if key in self._saved:
                return BoardAnswer(ref=self._saved[key])
            error = self._ended[variant]
            why = f"its training failed: {error}" if error else "its training ended without it"
            return BoardAnswer(ended_without=f"{variant} checkpoint step {step} epoch {epoch}: {why}")

    def published(self) -> list[tuple[str, int, int]]:
        return sorted(self._saved)


def start_board() -> Any:
    """A :class:`CheckpointBoard` actor (no CPUs, so it never competes with the work)."""
    import ray

    return ray.remote(num_cpus=0, max_restarts=0)(CheckpointBoard).remote()


@dataclass(frozen=True)
class BoardPublisher:
    """The ``on_checkpoint`` a training trial hands ``train_variant``: publishes to the board (picklable; it runs in
    the Ray Train controller)."""

    board: Any  # the CheckpointBoard actor handle

    def __call__(self, ref: CheckpointRef) -> None:
        import ray

        ray.get(self.board.publish.remote(ref))
