"""The executor interface: run one untrusted Python program on one stdin with limits, report what happened.

Executors know nothing about expected outputs; comparing is the grader's job (``codegen_ray.lcb.grading``).
A grader runs one program on many tests through a :class:`Session` (:func:`open_session`): executors that can do
it faster (the bubblewrap fork server) provide ``session()``; for any other executor each test is one ``run``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional, Protocol

from .program import Program


class Isolation(str, enum.Enum):
    """Isolation levels, weakest first. Recorded in every result file."""

    RLIMITS = "rlimits"  # resource limits + a process group; no filesystem/network isolation (loud fallback)
    BUBBLEWRAP = "bubblewrap"  # namespaces: no network, read-only system, private tmp, PID namespace per run

    @property
    def rank(self) -> int:
        return list(Isolation).index(self)


@dataclass(frozen=True)
class Limits:
    cpu_time_s: float = 6.0
    wall_time_s: float = 19.0  # backstop when the program sleeps/blocks instead of computing
    memory_mb: int = 1024  # address space
    output_limit_bytes: int = 8 * 1024 * 1024
    max_processes: int = 32
    max_open_files: int = 64
    max_file_size_bytes: int = 16 * 1024 * 1024


class RunStatus(str, enum.Enum):
    """How the process ended, as the sandbox saw it (not a verdict)."""

    EXITED = "exited"  # exited on its own; see exit_code
    SIGNALED = "signaled"  # killed by a signal it got from itself or the kernel (segfault, abort)
    COMPILE_ERROR = "compile_error"  # the source did not compile (SyntaxError etc.)
    TIME_LIMIT = "time_limit"  # CPU-time limit or wall-clock backstop
    MEMORY_LIMIT = "memory_limit"  # hit the address-space limit (MemoryError or allocation failure)
    OUTPUT_LIMIT = "output_limit"  # stdout exceeded the cap; the program was stopped
    HARNESS_ERROR = "harness_error"  # the sandbox itself failed; never the program's fault


@dataclass(frozen=True)
class RunResult:
    status: RunStatus
    stdout: str  # decoded UTF-8 with errors="replace", capped
    stderr_tail: str  # last few KB of stderr
    exit_code: Optional[int]
    signal: Optional[int]
    cpu_time_s: float
    wall_time_s: float
    peak_memory_kb: Optional[int]
    isolation: Isolation
    detail: str = ""  # e.g. which limit triggered, harness error text


class Executor(Protocol):
    """One method: run ``source`` as ``python3`` with ``stdin`` under ``limits``. An executor may also offer
    ``session(program, limits) -> Session`` (see :func:`open_session`)."""

    isolation: Isolation

    def run(self, source: str, stdin: str, limits: Limits) -> RunResult: ...


class Session(Protocol):
    """One program, many tests: ``run(stdin)`` per test, in order; ``close()`` when done (also as a context manager).
    Every test gets what a lone ``executor.run(program.text(), stdin, limits)`` would get: a fresh process, fresh
    tmp, nothing left over from earlier tests. ``last=True`` says no test follows (an executor that prepares the
    next test's process ahead skips that)."""

    def run(self, stdin: str, last: bool = False) -> RunResult: ...

    def close(self) -> None: ...

    def __enter__(self) -> "Session": ...

    def __exit__(self, *exc: object) -> None: ...


class SerialSession:
    """The session of an executor without its own: each test is one ``executor.run(program.text(), ...)``."""

    def __init__(self, executor: Executor, program: Program, limits: Limits):
        self._executor, self._source, self._limits = executor, program.text(), limits

    def run(self, stdin: str, last: bool = False) -> RunResult:
        return self._executor.run(self._source, stdin, self._limits)

    def close(self) -> None:
        pass

    def __enter__(self) -> "SerialSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_session(executor: Executor, program: Program, limits: Limits) -> Session:
    """``executor.session(program, limits)`` where the executor has one, else a :class:`SerialSession`."""
    opener = getattr(executor, "session", None)
    if opener is None:
        return SerialSession(executor, program, limits)
    return opener(program, limits)
