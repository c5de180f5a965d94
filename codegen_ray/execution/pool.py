"""Grading many programs through Ray: :class:`ExecutionPool`, a picklable handle on one execution service (a
manager actor and its sandbox actors, ``service``), created once per sweep and shared by every evaluation trial,
as ``generation.pool.GenerationPool`` is. Serial and thread-pool twins without Ray live in ``jobs`` and are
re-exported here (:func:`grade_serial`, :func:`grade_threaded`).

The pool knows how to run programs, not how to judge them: the caller passes a :class:`ProgramGrader` (the
benchmark's rules, e.g. ``lcb.grading.LcbGrader``), which the actors call with their own executor. The pool and
the twins give identical verdicts for the same jobs:

* each job (one program on one problem) is judged by the grader with an executor from ``make_executor``, under
  the limits of the ``ExecutionConfig``;
* a verdict that is a harness error is graded again (up to ``max_attempts``); a dead actor is replaced and its job
  retried; if failures persist the job's outcome is ``Outcome.HARNESS_ERROR`` (never a wrong answer); a grader
  that raises gives a harness error carrying its traceback and leaves its (healthy) actor alone;
* a time-limit verdict that load could have decided (near the CPU-time limit, or stopped by the wall-clock
  backstop: ``jobs.needs_serial_rerun``) is re-run alone -- no other program of the pool running, whichever trial
  sent it -- and the re-run's verdict is final;
* the pool never runs more programs at once than the CPUs it was given (``num_actors * cpus_per_actor``, at least
  one), counted over every trial together, so programs do not compete for cores and CPU-time verdicts do not depend
  on load from the pool itself;
* an actor call grades a batch of programs (``jobs.batch_size``): Ray is out of the per-program (and per-test) path.

Ray is imported only when a pool is created.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Optional

from ..config import RayConfig
from ..errors import HarnessError, UserError
from ..types import ProgramVerdict
from .base import Isolation
from .factory import IsolationFallbackWarning
from .jobs import (DEFAULT_MAX_ATTEMPTS, MAX_BATCH, GradeJob, ProgramGrader, batch_size, grade_job, grade_serial,
                   grade_threaded, needs_serial_rerun, pool_concurrency)
from .service import ServiceStats, WorkItem, actor_classes

__all__ = ["DEFAULT_MAX_ATTEMPTS", "MAX_BATCH", "ExecutionPool", "GradeJob", "ProgramGrader", "batch_size",
           "grade_job", "grade_serial", "grade_threaded", "needs_serial_rerun", "pool_concurrency"]

log = logging.getLogger(__name__)

START_WAIT_MARGIN_S = 60.0  # the driver waits for the manager this much longer than the manager waits for actors


class ExecutionPool:
    """``exec_cfg.num_actors`` Ray actors (``num_cpus=exec_cfg.cpus_per_actor`` each), each with its own sandbox,
    judging programs with ``grader``, behind one manager actor. Creating it starts them (Ray must be initialised)
    and waits at most ``start_timeout_s`` seconds for each (default: the config's ``ray.actor_start_timeout_s``),
    then fails with a HarnessError naming the CPUs that could not be had. The object pickles into Tune trials:
    every copy talks to the same manager, so the in-flight limit, serial re-runs and replacements hold for all of
    them together. Call :meth:`shutdown` once, from the driver."""

    def __init__(self, exec_cfg: Any, grader: ProgramGrader, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
                 start_timeout_s: Optional[float] = None):
        import ray

        if start_timeout_s is None:
            start_timeout_s = RayConfig().actor_start_timeout_s
        self.exec_cfg = exec_cfg
        self.max_attempts = max_attempts
        self.max_in_flight = pool_concurrency(exec_cfg)
        manager_cls = actor_classes()[1]
        self._manager = manager_cls.options(num_cpus=0, max_restarts=0).remote(exec_cfg, [ray.put(grader)],
                                                                              max_attempts, start_timeout_s)
        try:
            infos = _get(self._manager.start.remote(), float(start_timeout_s) + START_WAIT_MARGIN_S,
                         "the execution service's manager actor did not answer")
        except BaseException:
            _kill(self._manager)
            raise
        self.isolation = Isolation(infos[0].isolation)
        if self.isolation is Isolation.RLIMITS and str(exec_cfg.isolation) != "rlimits":
            message = ("SANDBOX UNAVAILABLE in an execution actor: untrusted programs run with resource limits ONLY "
                       "(isolation=rlimits). Install bubblewrap on every node, or set "
                       "execution.min_isolation=bubblewrap to refuse.")
            warnings.warn(message, IsolationFallbackWarning, stacklevel=2)
            log.warning(message)

    def grade(self, jobs: list[GradeJob]) -> list[ProgramVerdict]:
        """Verdicts in the order of ``jobs``."""
        import ray

        index: dict[int, int] = {}  # id(problem) -> position among the distinct problems
        refs: list[Any] = []
        question_ids: list[str] = []
        for job in jobs:
            if id(job.problem) not in index:
                index[id(job.problem)] = len(refs)
                refs.append(ray.put(job.problem))  # once per problem; the manager passes the ref on, unread
                question_ids.append(job.problem.question_id)
        items = [WorkItem(index[id(j.problem)], j.code, j.sample_index) for j in jobs]
        return _get(self._manager.grade.remote(items, question_ids, refs), None, "")

    def stats(self) -> ServiceStats:
        return _get(self._manager.stats.remote(), None, "")

    @property
    def actors_replaced(self) -> int:
        """Actors that died and were replaced, whichever trial's job they died on."""
        return self.stats().replaced

    def actor_handles(self) -> list[Any]:
        """The sandbox actors in use now (replacements included)."""
        return _get(self._manager.actor_handles.remote(), None, "")

    def worker_pids(self) -> list[int]:
        return [info.pid for info in _get(self._manager.actor_infos.remote(), None, "")]

    def sandbox_pids(self) -> list[Optional[int]]:
        return _get(self._manager.call_each.remote("sandbox_pid"), None, "")

    def run_uids(self) -> list[Optional[int]]:
        return _get(self._manager.call_each.remote("run_uid"), None, "")

    def shutdown(self) -> None:
        """Close and kill every sandbox actor (replacements and actors still starting included), then the
        manager."""
        try:
            _get(self._manager.shutdown.remote(), None, "")
        except Exception as exc:  # noqa: BLE001 - the manager is gone already: nothing more to stop
            log.warning("execution service shutdown: %s", exc)
        finally:
            _kill(self._manager)

    def __enter__(self) -> "ExecutionPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()


def _get(ref: Any, timeout: Optional[float], what: str) -> Any:
    """``ray.get`` that re-raises the service's own errors as themselves (not wrapped in a RayTaskError) and turns a
    timeout into a HarnessError saying ``what`` did not happen."""
    import ray
    from ray.exceptions import GetTimeoutError, RayTaskError

    try:
        return ray.get(ref, timeout=timeout)
    except GetTimeoutError:
        raise HarnessError(f"{what} within {timeout:g} s") from None
    except RayTaskError as exc:
        if isinstance(exc.cause, (UserError, HarnessError)):
            raise exc.cause from None
        raise


def _kill(handle: Any) -> None:
    import ray

    try:
        ray.kill(handle, no_restart=True)
    except Exception:  # noqa: BLE001 - already gone
        pass
