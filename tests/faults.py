"""Fault injection for the tests: failures the library has no parameter for, injected from outside.

:func:`crash_once_after_checkpoints` is a Ray Train loop that runs the real one
(``codegen_ray.train.worker.train_loop_per_worker``) and raises once, on every worker, right after the given number
of checkpoints were reported: the way a node loss in the middle of training looks to Ray Train. A test puts it in
place of the real loop with ``monkeypatch.setattr("codegen_ray.train.trainer.train_loop_per_worker", ...)``. The
marker file (written by rank 0 before raising) makes the failure happen once: the restarted workers find it and run
to the end.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable


def crash_once_after_checkpoints(after: int, marker: Path) -> Callable[[dict[str, Any]], None]:
    import ray.cloudpickle

    # Ray workers cannot import this test helper by name: send its code along with the loop.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    return functools.partial(_crashing_loop, after=after, marker=str(marker))


def _crashing_loop(config: dict[str, Any], after: int, marker: str) -> None:
    from codegen_ray.train import worker

    session = worker.RaySession()
    report = session.report
    reported = 0

    def report_then_maybe_crash(metrics: dict[str, Any], checkpoint_dir: Any, name: str) -> None:
        nonlocal reported
        report(metrics, checkpoint_dir, name)
        reported += 1
        if reported != after or Path(marker).exists():
            return
        if session.rank == 0:
            Path(marker).parent.mkdir(parents=True, exist_ok=True)
            Path(marker).write_text("failed once\n")
        raise RuntimeError(f"injected failure after checkpoint {reported} (test)")

    session.report = report_then_maybe_crash  # type: ignore[method-assign]
    worker.run_worker(config["spec"], session)
