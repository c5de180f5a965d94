"""The fast, isolated executor: a pre-warmed Python fork server inside one long-lived bubblewrap sandbox.

Design. ``bwrap`` starts once per executor with: its own network namespace (the fork server moves to a further
one whose loopback is down: no connection can be made at all), IPC, UTS and PID namespaces; a read-only view of
the system interpreter's files only (``/usr`` and the merged-/usr symlinks -- no /etc, /home, /root, /work, /sys:
nothing of the repository, the results, the MLflow database or the test data); a private tmpfs ``/tmp``; a
cleared environment; ``--die-with-parent``. Inside, a fork server (``_forkserver_main.py``, which has the
grader's implicit imports loaded and their namespace built once) waits on a socket.

One *program* is one request (:class:`~codegen_ray.execution.forkserver_session.ForkServerSession`). Its monitor,
forked ahead of the request, is pid 1 of a brand-new PID namespace with fresh mount and IPC namespaces and a
``/proc`` mounted ``hidepid=1``. Every *test* of the program then gets, from that monitor: a fresh tmpfs on ``/tmp``
and ``/dev/shm`` (one the last test left exactly as mounted is kept), a fresh IPC namespace, pid numbering reset,
and a new process (always pid 2), forked ahead of the test -- after the previous test, or, with ``prepare_ahead``,
during it: then a second monitor with its own namespaces takes every other test, and each prepares its next process
while the other's test runs -- with the harness's pipes as its real fd 0/1/2 (``sys.stdin.buffer``, ``open(0)``,
``/dev/stdin``, ``exit()`` behave as on AtCoder), rlimits (RLIMIT_CPU hard kill one second above the limit,
RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CORE=0, RLIMIT_NPROC), an unprivileged uid used by nothing else, a
seccomp filter refusing the kernel-keyring system calls, and the source compiled (SyntaxError -> COMPILE_ERROR). The
harness (outside the sandbox) feeds stdin, reads stdout incrementally with a cap, keeps a stderr tail, and enforces
the CPU-time limit and the wall-clock backstop through the process's pidfd. When the process ends, the monitor kills
and reaps everything left in the namespace before it reports, so nothing test *i* started, wrote to ``/tmp`` or
``/dev/shm``, or created in System V / POSIX IPC is there for test *i+1*; the kernel tears the namespaces down when
the program's session ends. If the sandbox dies, hangs, or fails before the program starts, it is restarted and the
test retried once; a second failure is a HARNESS_ERROR, never a verdict.

What it protects against: reading or changing any harness file (they are not in the sandbox's mount namespace;
the system files it sees are read-only), network access to anything (including services on the host's 127.0.0.1)
and DNS, reading the harness's environment (cleared; ``/proc`` shows only the program's own processes, and what
pid 1 does is hidden), signalling or ptracing anything outside its test (PID namespace; unprivileged uid;
``os.kill(-1, 9)`` reaches only its own processes), processes that outlive the test (fork bombs, ``setsid()``
orphans, double forks: killed before the next test starts), tests or programs influencing later ones through
/tmp, /dev/shm, SysV or POSIX IPC, kernel keyrings, leftover sockets or the pid counter, CPU / wall / memory /
file-size / fd / process-count / output exhaustion, core dumps.

What it does NOT protect against: kernel exploits (the sandbox shares the host kernel; the seccomp filter blocks
only the keyring calls; the fork server holds CAP_SYS_ADMIN/SETUID/SETGID/KILL inside its namespaces, the program
holds none), side channels and timing, host memory pressure beyond the per-process RLIMIT_AS (a forking program is
bounded by RLIMIT_NPROC x RLIMIT_AS; there is no cgroup memory limit), CPU used by a program's child processes
counts only once they are reaped (a forking program is bounded by the wall-clock backstop), reading world-readable
files under /usr. It needs root (bwrap's ``--cap-add``); where bwrap cannot start,
:func:`codegen_ray.execution.make_executor` falls back (loudly) to the rlimits-only executor.

Differences from a plain ``python3 -c`` run (identical in :class:`SubprocessExecutor`, which runs the same
program tail): the program's CPU time starts just before ``compile``; at exit, threads are joined, atexit handlers
run, the program's globals are released and stdout/stderr flushed, but other modules are not torn down and no
final garbage collection runs (CPython's full finalization in a forked child would copy most of the server's heap).
The fork server pre-imports a few common standard modules (math, collections, heapq, bisect, re, datetime, json,
...), so a program importing them spends less CPU on the import; a program's prelude (``Program.prelude``) runs
once per sandbox, not once per test.
"""

from __future__ import annotations

import logging
import os
import queue
import select
import socket
import subprocess
import threading
from concurrent.futures import Future
from typing import Optional

from .base import Isolation, Limits, RunResult
from .common import PROGRAM_ENV, PYTHON_FLAGS, new_run_uid, program_python, script_text
from .forkserver_session import ForkServerSession, SandboxUnavailable
from .program import Program

log = logging.getLogger(__name__)

START_TIMEOUT_S = 20.0
__all__ = ["ForkServerExecutor", "SandboxUnavailable", "bwrap_path"]


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

    def __init__(self, python: Optional[str] = None, bwrap: Optional[str] = None, prepare_ahead: bool = False):
        self.python = python or program_python()
        # A program with several tests gets a second monitor, which prepares each next test's process while a
        # test runs (see ForkServerSession): no wait between tests, for about one more monitor's CPU per program.
        self.prepare_ahead = prepare_ahead
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
        self.lock = threading.Lock()  # held by the one open session
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

    def control_socket(self) -> socket.socket:
        """The running sandbox's control socket (sessions send their programs on it)."""
        self.start()
        assert self._ctrl is not None
        return self._ctrl

    def sandbox_failed(self, why: str) -> None:
        """A session saw the sandbox fail: record it, and kill the sandbox (the next use restarts it)."""
        self._collect_server_log()
        self.failures.append(why)
        log.warning("bubblewrap sandbox failed (%s); restarting it", why)
        self._kill_sandbox()

    # ------------------------------------------------------------------------------------------------------ runs
    def session(self, program: Program, limits: Limits) -> ForkServerSession:
        """Run ``program`` on many inputs (one request; per test a fresh process, tmp and IPC namespace). Holds
        this executor until closed: sessions, and runs, are serialised."""
        return ForkServerSession(self, program, limits)

    def run(self, source: str, stdin: str, limits: Limits) -> RunResult:
        """Run one program on one input: a session with one test."""
        with self.session(Program(source), limits) as session:
            return session.run(stdin, last=True)  # nothing to prepare after it
