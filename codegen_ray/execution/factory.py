"""Choosing an executor from the config: the strongest isolation available, a loud fallback, a hard minimum."""

from __future__ import annotations

import logging
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


class IsolationFallbackWarning(RuntimeWarning):
    """The requested sandbox is unavailable; programs run with resource limits only."""


def _bubblewrap_executor() -> tuple[Optional[Executor], str]:
    from .bubblewrap import ForkServerExecutor, SandboxUnavailable

    try:
        executor = ForkServerExecutor()
        executor.start()  # probe: bwrap exists *and* can make the namespaces here
    except SandboxUnavailable as exc:
        return None, str(exc)
    return executor, ""


def make_executor(exec_cfg: Any) -> Executor:
    """The strongest executor ``exec_cfg`` allows.

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
    if wanted in ("auto", "bubblewrap"):
        executor, reason = _bubblewrap_executor()
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
