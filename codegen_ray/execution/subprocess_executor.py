"""Reference executor and fallback: a fresh ``python3`` process per run, resource limits only (Isolation.RLIMITS).

What it protects against: runaway CPU (precise CPU-time check plus an RLIMIT_CPU kill), sleeping/blocking (wall-clock
backstop), memory (RLIMIT_AS), giant files (RLIMIT_FSIZE), fd exhaustion (RLIMIT_NOFILE), core dumps, endless output
(stdout read incrementally and capped), a stdin the program never reads (fed without blocking). The program runs in
its own session/process group, which is killed at the end. When the harness runs as root the program additionally
runs under a throw-away uid (so RLIMIT_NPROC is effective, it cannot write root-owned files, cannot signal the
harness, and every process of that uid -- including ``setsid()`` orphans -- is killed after the run).

What it does NOT protect against: it can read every world-readable file (including a harness's world-readable
test data), reach the network, write world-writable places (/tmp, /dev/shm), and -- when not root -- leave
``setsid()``/double-forked processes behind and signal the harness's other processes of the same uid. Use the
bubblewrap executor (:mod:`codegen_ray.execution.bubblewrap`) for real isolation; this one is the loud fallback.
"""

from __future__ import annotations

import os
import select
import threading
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from typing import Optional

from .base import Isolation, Limits, RunResult
from .common import (PROGRAM_ENV, PYTHON_FLAGS, RawRun, RunIO, classify, cpu_rlimit_seconds, harness_error,
                     kill_all_of_uid, new_run_uid, process_cpu_clock, program_python, script_text)

_NCPU = os.cpu_count() or 1


def _rlimit_args(limits: Limits) -> list[str]:
    """RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_NPROC for _bootstrap_main.py (it sets them, and
    RLIMIT_CORE=0, before reading the program)."""
    return [str(v) for v in (cpu_rlimit_seconds(limits), limits.memory_mb * 1024 * 1024,
                             limits.max_file_size_bytes, limits.max_open_files, limits.max_processes)]


class SubprocessExecutor:
    """Fresh interpreter per run; see the module docstring for what it does and does not isolate."""

    isolation = Isolation.RLIMITS

    def __init__(self, python: Optional[str] = None):
        self.python = python or program_python()
        self._bootstrap = script_text("_bootstrap_main.py")
        self.as_root = os.geteuid() == 0
        self.run_uid: Optional[int] = new_run_uid() if self.as_root else None
        self._lock = threading.Lock()

    def close(self) -> None:
        pass

    def run(self, source: str, stdin: str, limits: Limits) -> RunResult:
        try:
            with self._lock:  # one run at a time: RLIMIT_NPROC and the final kill are per run uid
                return self._run(source, stdin, limits)
        except OSError as exc:  # could not even start the process: the harness's fault, never the program's
            return harness_error(self.isolation, f"subprocess executor: {exc!r}")

    def _run(self, source: str, stdin: str, limits: Limits) -> RunResult:
        io = RunIO(stdin.encode("utf-8"), limits.output_limit_bytes)
        src_fd = os.memfd_create("solution.py", os.MFD_CLOEXEC)  # pass_fds makes it inheritable in the child only
        st_r, st_w = os.pipe()
        workdir = tempfile.mkdtemp(prefix="cgr-run-")
        proc: Optional[subprocess.Popen] = None
        try:
            os.write(src_fd, source.encode("utf-8", "surrogatepass"))
            os.lseek(src_fd, 0, os.SEEK_SET)
            extra = {}
            if self.as_root:
                os.chown(workdir, self.run_uid, self.run_uid)
                extra = dict(user=self.run_uid, group=self.run_uid, extra_groups=[])
            os.chmod(workdir, 0o700)
            stdin_r, stdout_w, stderr_w = io.child_ends()
            t0 = time.monotonic()
            proc = subprocess.Popen(
                [self.python, *PYTHON_FLAGS, "-c", self._bootstrap, str(src_fd), str(st_w), *_rlimit_args(limits)],
                stdin=stdin_r, stdout=stdout_w, stderr=stderr_w, pass_fds=(src_fd, st_w), cwd=workdir,
                env=dict(PROGRAM_ENV, HOME=workdir), start_new_session=True, **extra)
            io.close_child_ends()
            os.close(st_w)
            st_w = -1
            os.close(src_fd)
            src_fd = -1
            raw = self._monitor(proc, io, st_r, limits, t0)
        finally:
            for fd in (src_fd, st_w, st_r):
                if fd >= 0:
                    os.close(fd)
            if proc is not None and proc.returncode is None:
                _kill_group(proc.pid)
                try:
                    os.waitpid(proc.pid, 0)
                except ChildProcessError:
                    pass
                proc.returncode = -9
            io.close()
            shutil.rmtree(workdir, ignore_errors=True)
        return classify(raw, limits, self.isolation)

    def _monitor(self, proc: subprocess.Popen, io: RunIO, st_r: int, limits: Limits, t0: float) -> RawRun:
        pid = proc.pid
        pidfd = os.pidfd_open(pid)
        clk = process_cpu_clock(pid)
        deadline = t0 + limits.wall_time_s
        status = b""
        startup = 0.0
        killed: Optional[str] = None
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        poller.register(st_r, select.POLLIN)
        io.register(poller)
        exited = False
        try:
            while not exited:
                try:
                    used = time.clock_gettime(clk) - startup
                except OSError:
                    used = 0.0
                now = time.monotonic()
                if io.output_exceeded:
                    killed = "output"
                elif used > limits.cpu_time_s:
                    killed = "cpu"
                elif now >= deadline:
                    killed = "wall"
                if killed:
                    os.kill(pid, signal.SIGKILL)
                    break
                timeout = min(deadline - now, max((limits.cpu_time_s - used) / _NCPU, 0.002))
                for fd, _ev in poller.poll(max(1, int(timeout * 1000) + 1)):
                    if fd == pidfd:
                        exited = True
                    elif fd == st_r:
                        data = os.read(st_r, 4096)
                        if not data:
                            poller.unregister(st_r)
                        status += data
                        if not startup and status[:1] == b"S" and len(status) >= 9:
                            startup = struct.unpack("<d", status[1:9])[0]
                    elif io.handles(fd):
                        io.on_event(fd, poller)
            _, wstatus, ru = os.wait4(pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(wstatus)
            wall = time.monotonic() - t0
        finally:
            os.close(pidfd)
        _kill_group(pid)
        if self.as_root:
            kill_all_of_uid(self.run_uid)
        while True:
            data = os.read(st_r, 4096)
            if not data:
                break
            status += data
        if status[:1] == b"S" and len(status) >= 9:
            startup = struct.unpack("<d", status[1:9])[0]
        note = ""
        if not io.drain(1.0):
            note = "a process the program started outlived it and kept its stdout open"
        return RawRun(wait_status=wstatus, cpu_time_s=ru.ru_utime + ru.ru_stime - startup, wall_time_s=wall,
                      peak_memory_kb=ru.ru_maxrss, killed=killed, compile_error=status[9:10] == b"C",
                      stdout=bytes(io.stdout), output_exceeded=io.output_exceeded,
                      stderr_tail=bytes(io.stderr_tail), note=note, started=status[:1] == b"S")


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
