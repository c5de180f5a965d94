"""The harness's side of one program in the bubblewrap fork server: one request, then one short exchange per test.

A session sends the program (``Program.body()`` in a memfd, the prelude, the rlimits) to the fork server once. The
program's monitor answers on the session's own channel with a test process that is already forked, limited and
compiled (message ``R``: a socket to it and its pidfd). For each test the harness hands that process its three
pipes (stdin, stdout, stderr) on that socket, which then carries the process's start message; it feeds stdin,
reads stdout incrementally with a cap, and enforces the CPU-time limit (the process's CPU clock, read through its
host pid) and the wall-clock backstop itself, killing through the pidfd. The monitor reports the exit status and
rusage (``D``) once the test process and everything it left are gone, and forks the next test's process when the
harness asks (``N``, sent as a test starts unless it is the session's last). With one monitor that fork follows the
report, so the harness waits for it before the next test; with the executor's ``prepare_ahead`` the tests alternate
between two monitors, so each next process is forked while the current test runs.

A sandbox failure (no answer, a closed channel, a monitor error) restarts the sandbox and retries the test once in
a fresh session; a second failure is a HARNESS_ERROR, never a verdict.
"""

from __future__ import annotations

import json
import logging
import os
import re
import select
import signal
import socket
import struct
import threading
import time
from typing import Optional, Protocol

from .base import Isolation, Limits, RunResult
from .common import RawRun, RunIO, classify, cpu_rlimit_seconds, harness_error, process_cpu_clock, tmp_size_bytes
from .program import Program

log = logging.getLogger(__name__)


class SandboxServer(Protocol):
    """What a session needs of its fork server (``bubblewrap.ForkServerExecutor`` is the one implementation)."""

    lock: threading.Lock
    isolation: Isolation
    prepare_ahead: bool

    def control_socket(self) -> socket.socket: ...

    def start(self) -> None: ...

    def sandbox_failed(self, why: str) -> None: ...


READY_TIMEOUT_S = 20.0  # a fresh sandbox may need to start first
RESULT_GRACE_S = 5.0  # past the test's own wall limit before the sandbox is declared hung
ATTEMPTS = 2
MONITOR_EXIT_TIMEOUT_S = 10.0
_NCPU = os.cpu_count() or 1
_STATUS = struct.Struct("@i")
_RUSAGE = struct.Struct("@18l")  # struct rusage on 64-bit Linux: ru_utime, ru_stime (timevals), then 14 longs
_START = struct.Struct("<d")
_PID_LINE = re.compile(rb"^Pid:\s*(-?\d+)", re.M)


class SandboxUnavailable(RuntimeError):
    """bwrap is missing or cannot create the namespaces here."""


class SandboxFailure(Exception):
    """The sandbox (not the program) failed during a run."""


_FD_SIZE = struct.calcsize("i")


def _recv_fds(sock: socket.socket, maxfds: int, flags: int = 0) -> tuple[bytes, list[int]]:
    """One message and the file descriptors attached to it. (``socket.recv_fds`` ignores its ``flags``, CPython
    gh-107898: with it a MSG_DONTWAIT call blocks until a message comes, and the ready timeout never applies.)"""
    msg, ancdata, _flags, _addr = sock.recvmsg(4096, socket.CMSG_SPACE(maxfds * _FD_SIZE), flags)
    fds: list[int] = []
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(data) - len(data) % _FD_SIZE
            fds += struct.unpack(f"{usable // _FD_SIZE}i", data[:usable])
    return msg, fds


def _host_pid(pidfd: int) -> Optional[int]:
    """The pid (in the harness's pid namespace) of the process ``pidfd`` refers to; None once it has exited and
    been reaped (the kernel then shows ``Pid: -1``), which is a finished program, not a sandbox failure."""
    with open(f"/proc/self/fdinfo/{pidfd}", "rb") as fh:
        match = _PID_LINE.search(fh.read())
    pid = int(match.group(1)) if match is not None else 0
    if pid == -1:
        return None
    if pid <= 0:  # no Pid line (a kernel without pidfd fdinfo) or 0: not visible from here
        raise SandboxFailure("the test process's pidfd names no process visible to the harness")
    return pid


class _Monitor:
    """One of a session's program monitors: its channel and, once its first test process came, its pidfd."""

    def __init__(self, chan: socket.socket):
        self.chan = chan
        self.pidfd = -1  # its exit means every process of that monitor is gone


class ForkServerSession:
    """``run(stdin)`` per test of one program; holds the executor (one program at a time) until ``close()``.

    With the executor's ``prepare_ahead``, a program with more than one test gets two monitors, and its tests
    alternate between them: while test k runs under one, the other -- which has reported test k-1 -- prepares the
    process for test k+1, so a test never waits for its process to be forked. The two share nothing a program can
    reach (see _forkserver_main.py)."""

    def __init__(self, executor: SandboxServer, program: Program, limits: Limits):
        self._ex = executor
        self._body = program.body().encode("utf-8", "surrogatepass")
        self._request = json.dumps({
            "prelude": program.prelude, "cpu_rlimit": cpu_rlimit_seconds(limits), "mem": limits.memory_mb << 20,
            "fsize": limits.max_file_size_bytes, "nofile": limits.max_open_files, "nproc": limits.max_processes,
            "tmp_bytes": tmp_size_bytes(limits)}).encode()
        self.limits = limits
        self._monitors: list[Optional[_Monitor]] = [None, None] if executor.prepare_ahead else [None]
        # test k runs under monitor k % len(self._monitors)
        self._test = 0  # index of the next test
        self._held = True
        executor.lock.acquire()

    # ------------------------------------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "ForkServerSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._drop()
        if self._held:
            self._held = False
            self._ex.lock.release()

    def _drop(self) -> None:
        monitors, self._monitors = self._monitors, [None] * len(self._monitors)
        for mon in monitors:
            if mon is not None:
                if mon.pidfd < 0:  # opened ahead for a test that never came: its first R carries its pidfd
                    try:
                        proc, pidfd = self._next_process(mon)
                    except (SandboxFailure, OSError):
                        pass  # no R (a dead sandbox): nothing of it is left to wait for
                    else:
                        proc.close()
                        os.close(pidfd)
                mon.chan.close()  # the monitor sees the end of the session and exits; its namespaces go with it
        for mon in monitors:
            if mon is not None and mon.pidfd >= 0:
                # Synchronous: when a session is closed nothing of it runs any more (not even a test process
                # forked ahead for a test that never came), so the next program starts on a clean slate.
                if not select.select([mon.pidfd], [], [], MONITOR_EXIT_TIMEOUT_S)[0]:
                    log.warning("a program's monitor did not exit within %.0f s of its session's end",
                                MONITOR_EXIT_TIMEOUT_S)
                os.close(mon.pidfd)

    def _open(self) -> _Monitor:
        """A monitor for this program: it compiles the program and prepares its first test process at once."""
        ctrl = self._ex.control_socket()
        src_fd = os.memfd_create("solution.py", os.MFD_CLOEXEC)
        chan, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            view = memoryview(self._body)
            while view:
                view = view[os.write(src_fd, view):]
            try:
                socket.send_fds(ctrl, [self._request], [src_fd, theirs.fileno()])
            except OSError as exc:
                raise SandboxFailure(f"sending the program: {exc}") from exc
        except BaseException:
            chan.close()
            raise
        finally:
            os.close(src_fd)
            theirs.close()
        return _Monitor(chan)

    def _monitor_for(self, test: int) -> _Monitor:
        slot = test % len(self._monitors)
        if self._monitors[slot] is None:
            self._monitors[slot] = self._open()
        return self._monitors[slot]

    # ------------------------------------------------------------------------------------------------ tests
    def run(self, stdin: str, last: bool = False) -> RunResult:
        if not self._held:
            raise RuntimeError("the session is closed")
        data = stdin.encode("utf-8")
        errors = []
        t0 = time.monotonic()
        test, self._test = self._test, self._test + 1
        for attempt in range(ATTEMPTS):
            try:
                self._ex.start()
                mon = self._monitor_for(test)
                if not last:  # the next test's monitor prepares its process (the other one: while this test runs)
                    ahead = self._monitors[(test + 1) % len(self._monitors)]
                    if ahead is None:
                        self._monitor_for(test + 1)
                    else:
                        ahead.chan.send(b"N")
                return self._run_once(mon, data)
            except (SandboxFailure, SandboxUnavailable, OSError) as exc:
                errors.append(f"attempt {attempt + 1}: {exc}")
                self._ex.sandbox_failed(str(exc))  # kills the sandbox, and with it this session's monitors
                self._drop()
        return harness_error(self._ex.isolation, "; ".join(errors), time.monotonic() - t0)

    @staticmethod
    def _next_process(mon: _Monitor) -> tuple[socket.socket, int]:
        chan = mon.chan
        try:  # often already waiting: forked while the previous test ran
            msg, fds = _recv_fds(chan, 3, socket.MSG_DONTWAIT)
        except BlockingIOError:
            if not select.select([chan], [], [], READY_TIMEOUT_S)[0]:
                raise SandboxFailure("no test process from the program's monitor") from None
            msg, fds = _recv_fds(chan, 3)
        if msg[:1] == b"R" and len(fds) == 3 and mon.pidfd < 0:
            mon.pidfd = fds.pop()
        if msg[:1] == b"R" and len(fds) == 2:
            return socket.socket(fileno=fds[0]), fds[1]
        for fd in fds:
            os.close(fd)
        if msg[:1] == b"E":
            raise SandboxFailure(msg[1:].decode("utf-8", "replace"))
        raise SandboxFailure("the program's monitor went away (sandbox died?)" if not msg else f"bad message {msg!r}")

    def _run_once(self, mon: _Monitor, stdin: bytes) -> RunResult:
        limits = self.limits
        io = RunIO(stdin, limits.output_limit_bytes)
        reported = False
        proc, pidfd = None, -1
        try:
            proc, pidfd = self._next_process(mon)
            try:
                socket.send_fds(proc, [b"T"], list(io.child_ends()))
            except OSError as exc:
                raise SandboxFailure(f"handing the test to its process: {exc}") from exc
            t0 = time.monotonic()
            io.close_child_ends()
            proc.setblocking(False)
            watch = _Watch(limits, pidfd, proc, t0)
            wall, wait_status, usage = watch.until_reported(mon.chan, io)
            reported = True
            if not io.drain(2.0):
                raise SandboxFailure("the test's processes were killed but its stdout stayed open")
        finally:
            if not reported and pidfd >= 0:  # interrupted (a sandbox failure, Ctrl-C): it must not run on
                try:
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                except OSError:
                    pass
            if proc is not None:
                proc.close()
            if pidfd >= 0:
                os.close(pidfd)
            io.close()
        status = watch.status
        if status[:1] == b"H":
            raise SandboxFailure(status[1:].decode("utf-8", "replace"))
        if watch.startup is None:
            tail = bytes(io.stderr_tail[-300:]).decode("utf-8", "replace").strip()
            raise SandboxFailure(f"the test process failed before the program started: {tail}")
        cpu = usage[0] + usage[1] / 1e6 + usage[2] + usage[3] / 1e6  # ru_utime + ru_stime
        raw = RawRun(wait_status=wait_status, cpu_time_s=cpu - watch.startup, wall_time_s=wall,
                     peak_memory_kb=usage[4], killed=watch.killed,
                     compile_error=status[1 + _START.size:2 + _START.size] == b"C", stdout=bytes(io.stdout),
                     output_exceeded=io.output_exceeded, stderr_tail=bytes(io.stderr_tail))
        return classify(raw, limits, self._ex.isolation)


class _Watch:
    """One test's limits, enforced from the harness: CPU time (the process's CPU clock, read through its host pid,
    first when the program could have used its limit, then as the remaining CPU allows), the wall-clock backstop,
    the output cap. Kills through the pidfd."""

    def __init__(self, limits: Limits, pidfd: int, proc: socket.socket, t0: float):
        self.limits, self.pidfd, self.proc, self.t0 = limits, pidfd, proc, t0
        self.deadline = t0 + limits.wall_time_s
        self.next_check = t0 + limits.cpu_time_s / _NCPU  # no earlier: it cannot have used its CPU limit yet
        self.clock: Optional[int] = None
        self.status = bytearray()  # what the test process said on its socket before the program started
        self.killed: Optional[str] = None

    @property
    def startup(self) -> Optional[float]:
        """The process's CPU time when the test started (its status message), None before it said so."""
        if self.status[:1] == b"S" and len(self.status) >= 1 + _START.size:
            return _START.unpack_from(self.status, 1)[0]
        return None

    def _read_status(self) -> None:
        while True:
            try:
                data = self.proc.recv(4096)
            except OSError:  # BlockingIOError: nothing (more) yet
                return
            if not data:
                return
            self.status += data

    def _check(self, io: RunIO, now: float) -> None:
        limits, reason = self.limits, None
        if io.output_exceeded:
            reason = "output"
        elif now >= self.deadline:
            reason = "wall"
        elif now >= self.next_check:
            if self.clock is None:
                pid = _host_pid(self.pidfd)
                if pid is None:  # exited and reaped (the harness woke late): the monitor's report is on its way
                    self.next_check = self.deadline
                    return
                self.clock = process_cpu_clock(pid)
            self._read_status()
            try:
                used = time.clock_gettime(self.clock) - (self.startup or 0.0)
            except OSError:  # gone already: its exit is being reported
                used = 0.0
            if used > limits.cpu_time_s:
                reason = "cpu"
            else:
                self.next_check = now + max((limits.cpu_time_s - used) / _NCPU, 0.002)
        if reason is not None:
            self.killed = reason
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def until_reported(self, chan: socket.socket, io: RunIO) -> tuple[float, int, tuple[int, ...]]:
        """Pump the test's stdio and enforce its limits until the monitor reports the process gone. Returns (wall
        seconds, wait status, rusage fields)."""
        give_up = self.deadline + RESULT_GRACE_S
        poller = select.poll()
        poller.register(chan.fileno(), select.POLLIN)
        io.register(poller)
        while True:
            now = time.monotonic()
            if now >= give_up:
                raise SandboxFailure("no result from the program's monitor within the wall limit + grace")
            if self.killed is None:
                self._check(io, now)
            wake = give_up if self.killed is not None else min(self.next_check, self.deadline)
            for fd, _ev in poller.poll(max(1, int((wake - now) * 1000) + 1)):
                if fd == chan.fileno():
                    msg = chan.recv(256)
                    wall = time.monotonic() - self.t0
                    if msg[:1] != b"D" or len(msg) != 1 + _STATUS.size + _RUSAGE.size:
                        if msg[:1] == b"E":
                            raise SandboxFailure(msg[1:].decode("utf-8", "replace"))
                        raise SandboxFailure("the program's monitor went away during a test (sandbox died?)")
                    self._read_status()  # the process is gone: everything it wrote is there
                    return wall, _STATUS.unpack_from(msg, 1)[0], _RUSAGE.unpack_from(msg, 1 + _STATUS.size)
                if io.handles(fd):
                    io.on_event(fd, poller)
                    if io.output_exceeded and self.killed is None:
                        self._check(io, time.monotonic())
