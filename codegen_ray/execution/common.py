"""Pieces both executors share, so that their verdicts are identical by construction.

- the interpreter programs run under (:func:`program_python`) and their environment (:data:`PROGRAM_ENV`);
- :class:`RunIO`: the harness side of a run's pipes -- stdin fed without blocking (a program that never reads its
  stdin cannot deadlock us), stdout read incrementally and capped (a program printing forever is stopped at the cap,
  never buffered), the last few KB of stderr;
- :func:`classify`: raw facts about a finished run -> :class:`RunResult` (one rule for both executors).
"""

from __future__ import annotations

import errno
import fcntl
import math
import os
import random
import select
import shutil
import signal
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from .base import Isolation, Limits, RunResult, RunStatus

STDERR_TAIL_BYTES = 4096
PIPE_BUFFER_BYTES = 64 * 1024  # Linux's default pipe capacity
BIG_PIPE_BYTES = 1024 * 1024  # the most an unprivileged process may ask for (fs.pipe-max-size)
# Programs get exactly this environment in every executor (PYTHONHASHSEED fixed: set/dict-of-str iteration order,
# and so any output that depends on it, is the same in a fork-server child and a fresh interpreter).
PROGRAM_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "PYTHONHASHSEED": "0", "HOME": "/tmp"}
PYTHON_FLAGS = ("-s",)  # no user site-packages; the environment is fully controlled, so -E/-I are not needed

_HERE = Path(__file__).resolve().parent


PROGRAM_TAIL = "_program_tail.py"


def script_text(name: str) -> str:
    """The text a sandbox interpreter runs (``python3 -c``): the script ``name`` (``_forkserver_main.py`` or
    ``_bootstrap_main.py``) followed by ``_program_tail.py``, the part both share (run, exit status, shutdown)."""
    return (_HERE / name).read_text(encoding="utf-8") + (_HERE / PROGRAM_TAIL).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def program_python() -> str:
    """The interpreter untrusted programs run under: the system ``python3`` (its prefix /usr is what the sandbox
    binds read-only), else the base interpreter of the running Python (never a virtualenv inside the repository)."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    import sys

    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def new_run_uid() -> int:
    """A uid no real account uses, unique per executor, so RLIMIT_NPROC counts only this executor's program and a
    final ``kill(-1)`` as that uid reaches exactly the program's leftovers."""
    return random.SystemRandom().randrange(1_500_000, 2_500_000)


def cpu_rlimit_seconds(limits: Limits) -> int:
    """Kernel backstop (SIGKILL) above the precise CPU check: whole seconds, one more than the limit."""
    return int(math.ceil(limits.cpu_time_s)) + 1


def tmp_size_bytes(limits: Limits) -> int:
    return max(16 << 20, 4 * limits.max_file_size_bytes)


def process_cpu_clock(pid: int) -> int:
    """clockid of a process's CPU-time clock (the kernel's MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED))."""
    return ((~pid) << 3) | 2


def _set_nonblocking(fd: int) -> None:
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)


class RunIO:
    """The harness's ends of one run's stdin/stdout/stderr pipes."""

    def __init__(self, stdin: bytes, output_limit_bytes: int):
        self.stdin_r, self.stdin_w = os.pipe()
        self.stdout_r, self.stdout_w = os.pipe()
        self.stderr_r, self.stderr_w = os.pipe()
        for fd in (self.stdin_w, self.stdout_r, self.stderr_r):
            _set_nonblocking(fd)
        for fd in (self.stdin_r, self.stdout_w, self.stderr_w):
            # the program runs under another uid; it may reopen its own stdio (open("/dev/stdin"), /proc/self/fd/1)
            os.fchmod(fd, 0o666)
        self._stdin = memoryview(stdin)
        self._stdin_pos = 0
        self.cap = output_limit_bytes
        self.stdout = bytearray()
        self.output_exceeded = False
        self.stderr_tail = bytearray()
        self.open_readers = {self.stdout_r, self.stderr_r}
        if len(stdin) > PIPE_BUFFER_BYTES:  # fewer round trips for a big input
            try:
                fcntl.fcntl(self.stdin_w, fcntl.F_SETPIPE_SZ, min(len(stdin), BIG_PIPE_BYTES))
            except OSError:
                pass
        self._feed(None)  # what fits in the pipe now: a small input never needs the poll loop

    def child_ends(self) -> tuple[int, int, int]:
        return self.stdin_r, self.stdout_w, self.stderr_w

    def close_child_ends(self) -> None:
        for fd in (self.stdin_r, self.stdout_w, self.stderr_w):
            _close(fd)
        self.stdin_r = self.stdout_w = self.stderr_w = -1

    def _close_stdin(self) -> None:
        if self.stdin_w >= 0:
            _close(self.stdin_w)
            self.stdin_w = -1

    def register(self, poller: select.poll) -> None:
        if self.stdin_w >= 0:
            poller.register(self.stdin_w, select.POLLOUT)
        for fd in self.open_readers:
            poller.register(fd, select.POLLIN)

    def handles(self, fd: int) -> bool:
        return fd in self.open_readers or (fd == self.stdin_w and fd >= 0)

    def _feed(self, poller: Optional[select.poll]) -> None:
        """Write as much of stdin as the pipe takes now; close it when all is written (or nobody reads it)."""
        done = self._stdin_pos >= len(self._stdin)
        while not done:
            try:
                n = os.write(self.stdin_w, self._stdin[self._stdin_pos:self._stdin_pos + BIG_PIPE_BYTES])
            except BlockingIOError:
                return
            except OSError:  # EPIPE: the program exited or closed its stdin without reading it all
                break
            self._stdin_pos += n
            done = self._stdin_pos >= len(self._stdin)
        if poller is not None:
            poller.unregister(self.stdin_w)
        self._close_stdin()

    def on_event(self, fd: int, poller: Optional[select.poll]) -> None:
        if fd == self.stdin_w:
            self._feed(poller)
            return
        self._read(fd, poller)

    def _read(self, fd: int, poller: Optional[select.poll]) -> bool:
        """Read what is there; False when nothing more is available now. EOF unregisters and closes."""
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return False
        except OSError as exc:
            if exc.errno == errno.EINTR:
                return True
            data = b""
        if not data:
            if poller is not None:
                poller.unregister(fd)
            self.open_readers.discard(fd)
            _close(fd)
            return False
        if fd == self.stdout_r:
            room = self.cap - len(self.stdout)
            if len(data) > room:
                self.output_exceeded = True
                data = data[:max(room, 0)]
            self.stdout += data
        else:
            self.stderr_tail += data
            if len(self.stderr_tail) > 2 * STDERR_TAIL_BYTES:
                del self.stderr_tail[:-STDERR_TAIL_BYTES]
        return True

    def drain(self, timeout_s: float) -> bool:
        """After every writer is gone: read stdout/stderr to EOF. False if a writer still holds them open."""
        self._close_stdin()
        deadline = time.monotonic() + timeout_s
        while self.open_readers:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            ready, _, _ = select.select(list(self.open_readers), [], [], remaining)
            for fd in ready:
                while fd in self.open_readers and self._read(fd, None):
                    if fd == self.stdout_r and self.output_exceeded:
                        break
        return True

    def close(self) -> None:
        self.close_child_ends()
        self._close_stdin()
        for fd in list(self.open_readers):
            _close(fd)
        self.open_readers.clear()


def _close(fd: int) -> None:
    if fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass


@dataclass
class RawRun:
    """What an executor observed; :func:`classify` turns it into a RunResult."""

    wait_status: Optional[int]
    cpu_time_s: float  # the program's own CPU time (rusage of the process and its reaped children, minus start-up)
    wall_time_s: float
    peak_memory_kb: Optional[int]
    killed: Optional[str]  # "cpu" | "wall" | "output" | None
    compile_error: bool
    stdout: bytes
    output_exceeded: bool
    stderr_tail: bytes
    note: str = ""
    started: bool = True  # the bootstrap reached the program (wrote its start marker); False = harness failure


def _is_memory_error(stderr_tail: str) -> bool:
    lines = [ln for ln in stderr_tail.strip().splitlines() if ln.strip()]
    return bool(lines) and lines[-1].strip().split(":")[0] == "MemoryError"


def classify(raw: RawRun, limits: Limits, isolation: Isolation) -> RunResult:
    """One rule for every executor. Order matters: compile error, output cap, time, memory, signal, exit."""
    stderr = bytes(raw.stderr_tail[-STDERR_TAIL_BYTES:]).decode("utf-8", "replace")
    exit_code: Optional[int] = None
    sig: Optional[int] = None
    if raw.wait_status is not None:
        code = os.waitstatus_to_exitcode(raw.wait_status)
        if code < 0:
            sig = -code
        else:
            exit_code = code
    cpu = max(raw.cpu_time_s, 0.0)
    detail = raw.note
    if not raw.started:
        return harness_error(isolation, "the interpreter failed before the program started: "
                             + (_last_line(stderr) or f"wait status {raw.wait_status}"), raw.wall_time_s)
    if raw.compile_error:
        status = RunStatus.COMPILE_ERROR
        detail = detail or _last_line(stderr)
    elif raw.output_exceeded or raw.killed == "output":
        status = RunStatus.OUTPUT_LIMIT
        detail = detail or f"stdout exceeded {limits.output_limit_bytes} bytes"
    elif raw.killed in ("cpu", "wall") or cpu > limits.cpu_time_s or sig == signal.SIGXCPU:
        status = RunStatus.TIME_LIMIT
        which = "wall-clock" if raw.killed == "wall" else "CPU"
        detail = detail or f"{which} time limit ({limits.cpu_time_s:g} s CPU, {limits.wall_time_s:g} s wall)"
    elif _is_memory_error(stderr):
        status = RunStatus.MEMORY_LIMIT
        detail = detail or f"MemoryError under a {limits.memory_mb} MB address-space limit"
    elif sig is not None:
        status = RunStatus.SIGNALED
        detail = detail or f"killed by signal {signal.Signals(sig).name if sig in signal.valid_signals() else sig}"
    else:
        status = RunStatus.EXITED
        if exit_code:
            detail = detail or _last_line(stderr)
    return RunResult(
        status=status,
        stdout=bytes(raw.stdout).decode("utf-8", "replace"),
        stderr_tail=stderr,
        exit_code=exit_code,
        signal=sig,
        cpu_time_s=cpu,
        wall_time_s=raw.wall_time_s,
        peak_memory_kb=raw.peak_memory_kb,
        isolation=isolation,
        detail=detail[:500],
    )


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def harness_error(isolation: Isolation, detail: str, wall_time_s: float = 0.0) -> RunResult:
    return RunResult(status=RunStatus.HARNESS_ERROR, stdout="", stderr_tail="", exit_code=None, signal=None,
                     cpu_time_s=0.0, wall_time_s=wall_time_s, peak_memory_kb=None, isolation=isolation,
                     detail=detail[:500])


def kill_all_of_uid(uid: int) -> None:
    """Kill every process owned by ``uid`` (only meaningful when we are root and ``uid`` is a run-only uid)."""
    kill_bin = shutil.which("kill", path="/usr/bin:/bin")
    if kill_bin is None:
        return
    import subprocess

    for _ in range(5):
        proc = subprocess.run([kill_bin, "-9", "-1"], user=uid, group=uid, extra_groups=[], env=PROGRAM_ENV,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              check=False)
        if proc.returncode != 0:  # "no process found" -> nothing left
            return
