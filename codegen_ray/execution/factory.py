"""Choosing an executor from the config: the strongest isolation available, a loud fallback, a hard minimum."""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any, Optional

from ..errors import UserError
from .base import Executor, Isolation, Limits

log = logging.getLogger(__name__)


def limits_from_config(exec_cfg: Any) -> Limits:
    """Per-test limits from an :class:`~codegen_ray.config.ExecutionConfig` (CPU limit, wall backstop
    ``factor * timeout + 1 s``, address space, stdout cap)."""
    return Limits(
        cpu_time_s=float(exec_cfg.timeout_s),
        wall_time_s=float(exec_cfg.wall_timeout_factor) * float(exec_cfg.timeout_s) + 1.0,
        memory_mb=int(exec_cfg.memory_mb),
        output_limit_bytes=int(exec_cfg.output_limit_kb) * 1024,
    )


PREPARE_AHEAD_MIN_CPUS = 2.0  # the test's core and a spare one


def prepare_ahead_for(setting: str, cpus: Optional[float]) -> bool:
    """Whether an executor prepares each next test's process while a test runs (``execution.prepare_ahead``):
    ``always``/``never``; ``auto`` -> only with at least :data:`PREPARE_AHEAD_MIN_CPUS` CPUs to itself (``cpus``; None:
    unknown, so off). Where executors share the cores, preparing ahead only adds CPU (a second monitor per program)
    and saves no time."""
    if setting not in ("auto", "always", "never"):
        raise UserError(f"execution.prepare_ahead: unknown setting {setting!r} (auto, always, never)")
    if setting == "auto":
        return cpus is not None and cpus >= PREPARE_AHEAD_MIN_CPUS
    return setting == "always"


def cpus_each(workers: int) -> float:
    """The CPUs each of ``workers`` executors in this process has to itself: this process's cores, shared."""
    return len(os.sched_getaffinity(0)) / max(workers, 1)


class IsolationFallbackWarning(RuntimeWarning):
    """The requested sandbox is unavailable; programs run with resource limits only."""


def _bubblewrap_executor(prepare_ahead: bool) -> tuple[Optional[Executor], str]:
    from .bubblewrap import ForkServerExecutor, SandboxUnavailable

    try:
        executor = ForkServerExecutor(prepare_ahead=prepare_ahead)
        executor.start()  # probe: bwrap exists *and* can make the namespaces here
    except SandboxUnavailable as exc:
        return None, str(exc)
    return executor, ""


def make_executor(exec_cfg: Any, cpus: Optional[float] = None) -> Executor:
    """The strongest executor ``exec_cfg`` allows; ``cpus``: the CPUs it has to itself, where known (see
    :func:`prepare_ahead_for`).

    ``isolation``: ``auto``/``bubblewrap`` -> the bubblewrap fork server if it starts here, else the rlimits-only
    :class:`SubprocessExecutor` with a warning (``warnings.warn`` and ``logging.warning``); ``rlimits`` -> the
    rlimits-only executor. Raises :class:`~codegen_ray.errors.UserError` when the result is below
    ``exec_cfg.min_isolation``. The chosen level is ``executor.isolation`` (recorded in every ProgramVerdict).
    """
    from .subprocess_executor import SubprocessExecutor

    wanted = str(exec_cfg.isolation)
    minimum = Isolation(str(exec_cfg.min_isolation))
    executor: Optional[Executor] = None
    reason = ""
    ahead = prepare_ahead_for(str(exec_cfg.prepare_ahead), cpus)
    if wanted in ("auto", "bubblewrap"):
        executor, reason = _bubblewrap_executor(ahead)
        if executor is None:
            if minimum.rank > Isolation.RLIMITS.rank:
                raise UserError(f"execution.min_isolation={minimum.value} but the bubblewrap sandbox is "
                                f"unavailable here: {reason}")
            message = (f"SANDBOX UNAVAILABLE ({reason}); untrusted programs will run with resource limits ONLY "
                       f"(isolation=rlimits: no filesystem/network isolation). Install bubblewrap, or set "
                       f"execution.min_isolation=bubblewrap to refuse to run like this.")
            warnings.warn(message, IsolationFallbackWarning, stacklevel=2)
            log.warning(message)
    elif wanted != "rlimits":
        raise UserError(f"execution.isolation: unknown level {wanted!r}")
    if executor is None:
        executor = SubprocessExecutor()
    if executor.isolation.rank < minimum.rank:
        raise UserError(f"execution.min_isolation={minimum.value} but execution.isolation={wanted} gives "
                        f"{executor.isolation.value}")
    return executor
