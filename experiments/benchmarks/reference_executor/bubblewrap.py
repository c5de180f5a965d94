"""The fast, isolated executor: a pre-warmed Python fork server inside one long-lived bubblewrap sandbox.

Design. ``bwrap`` starts once per executor with: its own network namespace (nothing but an unused loopback), IPC,
UTS and PID namespaces; a read-only view of the system interpreter's files only (``/usr`` and the merged-/usr
symlinks -- no /etc, /home, /root, /work, /sys: nothing of the repository, the results, the MLflow database or the
test data); a private tmpfs ``/tmp``; a cleared environment; ``--die-with-parent``. Inside, a fork server
(``_forkserver_main.py``) waits on a socket. For every run it calls ``unshare(CLONE_NEWPID)`` and forks -- ahead
of time, while the previous run is still going: the child is pid 1 of a brand-new PID namespace with fresh mount
and IPC namespaces and a fresh ``/proc``, and waits for its request; then it mounts a new tmpfs on ``/tmp`` and
``/dev/shm``, forks the program (pid 2) and watches its CPU and wall time. The program process
gets the harness's pipes as its real fd 0/1/2 (``sys.stdin.buffer``, ``open(0)``, ``/dev/stdin``, ``exit()`` behave
as on AtCoder), rlimits (RLIMIT_CPU hard kill one second above the limit, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NOFILE,
RLIMIT_CORE=0, RLIMIT_NPROC), drops to an unprivileged uid used by nothing else, compiles the source (SyntaxError
-> COMPILE_ERROR) and runs it as ``python3 -c`` would. When the program ends (or is stopped: CPU limit, wall limit,
output cap), pid 1 kills and reaps everything left in the namespace, reports, and exits; the kernel guarantees
nothing in that namespace survives. The harness (outside the sandbox) feeds stdin, reads stdout incrementally with
a cap and keeps a stderr tail. If the sandbox dies, hangs, or fails before the program starts, it is restarted and
the run retried once; a second failure is a HARNESS_ERROR, never a verdict.

What it protects against: reading or changing any harness file (they are not in the sandbox's mount namespace;
the system files it sees are read-only), network access to anything (including services on the host's 127.0.0.1)
and DNS, reading the harness's environment (cleared; ``/proc`` shows only the run's own processes), signalling or
ptracing anything outside its run (PID namespace; unprivileged uid; ``os.kill(-1, 9)`` reaches only its own
processes), processes that outlive the run (fork bombs, ``setsid()`` orphans, double forks: the namespace is torn
down), runs influencing later runs through /tmp, /dev/shm or SysV IPC (fresh per run), CPU / wall / memory /
file-size / fd / process-count / output exhaustion, core dumps.

What it does NOT protect against: kernel exploits (the sandbox shares the host kernel; there is no seccomp filter;
the fork server holds CAP_SYS_ADMIN/SETUID/SETGID/KILL inside its namespaces, the program holds none), side
channels and timing, host memory pressure beyond the per-process RLIMIT_AS (a forking program is bounded by
RLIMIT_NPROC x RLIMIT_AS; there is no cgroup memory limit), CPU used by a program's child processes counts only
once they are reaped (a forking program is bounded by the wall-clock backstop), reading world-readable files under
/usr. It needs root (bwrap's ``--cap-add``); where bwrap cannot start, :func:`codegen_ray.execution.make_executor`
falls back (loudly) to the rlimits-only executor.

Differences from a plain ``python3 -c`` run (identical in :class:`SubprocessExecutor`, which runs the same
program tail): the program's CPU time starts just before ``compile``; at exit, threads are joined, atexit handlers
run, the program's globals are released and stdout/stderr flushed, but other modules are not torn down and no
final garbage collection runs (CPython's full finalization in a forked child would copy most of the server's heap).
The fork server pre-imports a few common standard modules (math, collections, heapq, bisect, re, ...), so a
program importing them spends less CPU on the import.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import select
import socket
import subprocess
import threading
import time
from concurrent.futures import Future
from typing import Optional

from codegen_ray.execution.base import Isolation, Limits, RunResult
from .common import (PROGRAM_ENV, PYTHON_FLAGS, RawRun, RunIO, classify, cpu_rlimit_seconds, harness_error,
                     new_run_uid, program_python, script_text, tmp_size_bytes)

log = logging.getLogger(__name__)

START_TIMEOUT_S = 20.0
RESULT_GRACE_S = 5.0  # past the run's own wall limit before the sandbox is declared hung
ATTEMPTS = 2


class SandboxUnavailable(RuntimeError):
    """bwrap is missing or cannot create the namespaces here."""


class _SandboxFailure(Exception):
    """The sandbox (not the program) failed during a run."""


_spawn_queue: "queue.SimpleQueue[tuple[list[str], dict, Future]]" = queue.SimpleQueue()
_spawner: Optional[threading.Thread] = None
_spawner_lock = threading.Lock()


def _spawner_loop() -> None:
    while True:
        cmd, kwargs, fut = _spawn_queue.get()
        try:
            fut.set_result(subprocess.Popen(cmd, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            fut.set_exception(exc)


def _popen_from_long_lived_thread(cmd: list[str], **kwargs) -> subprocess.Popen:
    """``--die-with-parent`` is PR_SET_PDEATHSIG, which fires when the *thread* that started bwrap exits; starting
    every sandbox from one daemon thread keeps it alive for as long as this process lives, whichever (pool) thread
    created the executor."""
    global _spawner
    with _spawner_lock:
        if _spawner is None or not _spawner.is_alive():
            _spawner = threading.Thread(target=_spawner_loop, name="codegen-ray-sandbox-spawner", daemon=True)
            _spawner.start()
    fut: Future = Future()
    _spawn_queue.put((cmd, kwargs, fut))
    return fut.result()


def bwrap_path() -> Optional[str]:
    for candidate in ("/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _system_binds(python: str) -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    real = os.path.realpath(python)
    if not real.startswith("/usr/"):
        prefix = os.path.dirname(os.path.dirname(real))  # <prefix>/bin/python3 -> <prefix>
        args += ["--ro-bind", prefix, prefix]
    return args


class ForkServerExecutor:
    """Runs programs in a long-lived bubblewrap sandbox through a pre-warmed fork server (Isolation.BUBBLEWRAP)."""

    isolation = Isolation.BUBBLEWRAP

    def __init__(self, python: Optional[str] = None, bwrap: Optional[str] = None):
        self.python = python or program_python()
        self.bwrap = bwrap or bwrap_path()
        if self.bwrap is None:
            raise SandboxUnavailable("bwrap not found (Debian/Ubuntu: apt-get install bubblewrap)")
        self.run_uid = new_run_uid()
        self._script = script_text("_forkserver_main.py")
        self._proc: Optional[subprocess.Popen] = None
        self._ctrl: Optional[socket.socket] = None
        self.restarts = 0  # sandbox (re)starts after the first
        self._started_once = False
        self._server_log = bytearray()
        self._lock = threading.Lock()
        self.failures: list[str] = []  # every sandbox failure seen (each one caused a restart)

    # ------------------------------------------------------------------------------------------------ lifecycle
    @property
    def sandbox_pid(self) -> Optional[int]:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def start(self) -> None:
        """Start the sandbox and wait for the fork server's ready message. Raises SandboxUnavailable."""
        if self._proc is not None and self._proc.poll() is None and self._ctrl is not None:
            return
        self._kill_sandbox()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd = [self.bwrap, "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-pid", "--unshare-cgroup-try",
               "--die-with-parent", "--new-session", *_system_binds(self.python),
               "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--clearenv"]
        for key, value in PROGRAM_ENV.items():
            cmd += ["--setenv", key, value]
        cmd += ["--chdir", "/tmp"]
        for cap in ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_KILL"):
            cmd += ["--cap-add", cap]
        cmd += [self.python, *PYTHON_FLAGS, "-c", self._script, str(theirs.fileno()), str(self.run_uid)]
        try:
            # stdin/stdout are pipes the server never touches: the program's sys.stdin/sys.stdout objects are made
            # at server start-up for pipes, exactly like a fresh interpreter's with piped stdio.
            self._proc = _popen_from_long_lived_thread(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=(theirs.fileno(),), start_new_session=True, env={})
        except OSError as exc:
            ours.close()
            theirs.close()
            raise SandboxUnavailable(f"cannot run bwrap: {exc}") from exc
        theirs.close()
        os.set_blocking(self._proc.stderr.fileno(), False)
        self._ctrl = ours
        ready = select.select([ours], [], [], START_TIMEOUT_S)[0]
        msg = ours.recv(4096) if ready else b""
        if not msg.startswith(b'{"ready"'):
            self._collect_server_log()
            err = bytes(self._server_log[-2000:]).decode("utf-8", "replace").strip()
            self._kill_sandbox()
            raise SandboxUnavailable(f"bubblewrap fork server did not start: {err or 'no ready message'}")
        if self._started_once:
            self.restarts += 1
        self._started_once = True

    def close(self) -> None:
        self._kill_sandbox()

    def __del__(self) -> None:  # best effort; --die-with-parent covers the harness dying
        try:
            self._kill_sandbox()
        except Exception:  # noqa: BLE001
            pass

    def _collect_server_log(self) -> None:
        if self._proc is None or self._proc.stderr is None:
            return
        try:
            while True:
                data = os.read(self._proc.stderr.fileno(), 65536)
                if not data:
                    break
                self._server_log += data
                del self._server_log[:-8192]
        except (BlockingIOError, OSError, ValueError):
            pass

    def _kill_sandbox(self) -> None:
        proc, self._proc = self._proc, None
        if self._ctrl is not None:
            self._ctrl.close()
            self._ctrl = None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log.error("bubblewrap sandbox %d did not die", proc.pid)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    # ------------------------------------------------------------------------------------------------------ runs
    def run(self, source: str, stdin: str, limits: Limits) -> RunResult:
        """Run one program. Thread-safe, but runs are serialised: one sandbox runs one program at a time."""
        with self._lock:
            return self._run_with_retry(source, stdin, limits)

    def _run_with_retry(self, source: str, stdin: str, limits: Limits) -> RunResult:
        errors = []
        t0 = time.monotonic()
        for attempt in range(ATTEMPTS):
            try:
                self.start()
                return self._run_once(source, stdin, limits)
            except (_SandboxFailure, SandboxUnavailable, OSError) as exc:
                self._collect_server_log()
                errors.append(f"attempt {attempt + 1}: {exc}")
                self.failures.append(str(exc))
                log.warning("bubblewrap sandbox failed (%s); restarting it", exc)
                self._kill_sandbox()
        return harness_error(self.isolation, "; ".join(errors), time.monotonic() - t0)

    def _run_once(self, source: str, stdin: str, limits: Limits) -> RunResult:
        assert self._ctrl is not None
        ctrl = self._ctrl  # requests only; each run reports on its own socketpair
        io = RunIO(stdin.encode("utf-8"), limits.output_limit_bytes)
        src_fd = os.memfd_create("solution.py", os.MFD_CLOEXEC)
        chan, chan_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            os.write(src_fd, source.encode("utf-8", "surrogatepass"))
            req = {"cpu": limits.cpu_time_s, "wall": limits.wall_time_s, "cpu_rlimit": cpu_rlimit_seconds(limits),
                   "mem": limits.memory_mb * 1024 * 1024, "fsize": limits.max_file_size_bytes,
                   "nofile": limits.max_open_files, "nproc": limits.max_processes,
                   "tmp_bytes": tmp_size_bytes(limits)}
            try:
                socket.send_fds(ctrl, [json.dumps(req).encode()], [src_fd, *io.child_ends(), chan_theirs.fileno()])
            except OSError as exc:
                raise _SandboxFailure(f"sending the run request: {exc}") from exc
            io.close_child_ends()
            chan_theirs.close()
            os.close(src_fd)
            src_fd = -1
            result = self._await_result(chan, io, limits)
            if not io.drain(2.0):
                raise _SandboxFailure("the run's namespace was torn down but its stdout stayed open")
        finally:
            if src_fd >= 0:
                os.close(src_fd)
            chan.close()
            chan_theirs.close()
            io.close()
        if result.get("harness_error"):
            raise _SandboxFailure(str(result["harness_error"]))
        if not result["started"]:
            tail = bytes(io.stderr_tail[-300:]).decode("utf-8", "replace").strip()
            raise _SandboxFailure(f"the program's process failed before the program started: {tail}")
        raw = RawRun(wait_status=result["wait_status"], cpu_time_s=result["cpu"] - result["startup"],
                     wall_time_s=result["wall"], peak_memory_kb=result["maxrss_kb"], killed=result["killed"],
                     compile_error=result["compile_error"], stdout=bytes(io.stdout),
                     output_exceeded=io.output_exceeded, stderr_tail=bytes(io.stderr_tail))
        return classify(raw, limits, self.isolation)

    def _await_result(self, chan: socket.socket, io: RunIO, limits: Limits) -> dict:
        """Pump the run's stdio until its monitor reports on the run's own channel."""
        deadline = time.monotonic() + limits.wall_time_s + RESULT_GRACE_S
        poller = select.poll()
        poller.register(chan.fileno(), select.POLLIN)
        io.register(poller)
        stop_sent = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _SandboxFailure("no result from the fork server within the wall limit + grace")
            for fd, ev in poller.poll(int(remaining * 1000) + 1):
                if fd == chan.fileno():
                    msg = chan.recv(1 << 16)
                    if not msg:
                        raise _SandboxFailure("the run's channel closed without a result (sandbox died?)")
                    return json.loads(msg)
                if io.handles(fd):
                    io.on_event(fd, poller)
            if io.output_exceeded and not stop_sent:
                try:
                    chan.send(b"K")
                except OSError:  # the monitor already reported and left: its result (or EOF) is waiting
                    pass
                stop_sent = True
