"""Sandboxed execution of untrusted programs (stdlib only at import time; Ray is imported by the pool on use).

Knows nothing of any benchmark: it runs programs and reports what happened; judging them is the grader's job (the
pool takes one). May import the foundation only (``types``, ``errors``).

- :func:`make_executor` -- the strongest executor available (bubblewrap fork server, else a loud rlimits fallback);
- :class:`Program` and :func:`open_session` -- one program run on many tests (one sandbox request per program);
- :class:`~codegen_ray.execution.bubblewrap.ForkServerExecutor` -- fast and isolated (see its module docstring for
  exactly what it protects against and what not);
- :class:`~codegen_ray.execution.subprocess_executor.SubprocessExecutor` -- fresh ``python3`` per run, rlimits only;
- :class:`~codegen_ray.execution.pool.ExecutionPool` / :func:`~codegen_ray.execution.pool.grade_serial` /
  :func:`~codegen_ray.execution.pool.grade_threaded` -- judging many programs through one Ray execution service
  shared by every caller (``service``: a manager actor and its sandbox actors), serially or on threads
  (``jobs``), with identical verdicts.
"""

from .base import Executor, Isolation, Limits, RunResult, RunStatus, Session, open_session
from .factory import IsolationFallbackWarning, limits_from_config, make_executor
from .program import Program

__all__ = ["Executor", "Isolation", "Limits", "Program", "RunResult", "RunStatus", "Session", "open_session",
           "IsolationFallbackWarning",
           "limits_from_config", "make_executor", "ExecutionPool", "GradeJob", "grade_serial", "grade_threaded",
           "ForkServerExecutor", "SubprocessExecutor"]


def __getattr__(name: str):
    if name in ("ExecutionPool", "GradeJob", "grade_serial", "grade_threaded"):
        from . import pool

        return getattr(pool, name)
    if name == "ForkServerExecutor":
        from .bubblewrap import ForkServerExecutor

        return ForkServerExecutor
    if name == "SubprocessExecutor":
        from .subprocess_executor import SubprocessExecutor

        return SubprocessExecutor
    raise AttributeError(name)
