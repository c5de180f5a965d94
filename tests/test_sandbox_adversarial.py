"""Hostile programs against the executors, one hostile behaviour per test.

Every test checks, besides its expected status: the run ended within the wall limit + 1 s, no process of the run's
uid is left, the sandbox (harness) is alive and was not restarted, no file outside the sandbox's tmp changed, no
secret appeared in the output, and a canary program run right after gets a normal verdict.

The bubblewrap fork server must pass all of them. The rlimits-only fallback runs the same programs; a test is
skipped for it (with the reason) where the property is one it documents it cannot give.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import textwrap
import threading
import time
from pathlib import Path

import pytest

from codegen_ray.execution.base import Isolation, Limits, RunStatus
from codegen_ray.execution.bubblewrap import ForkServerExecutor, bwrap_path
from codegen_ray.execution.subprocess_executor import SubprocessExecutor
from faults import run_uid_processes

LIMITS = Limits(cpu_time_s=1.0, wall_time_s=2.0, memory_mb=256, output_limit_bytes=1 << 20)
SECRET = "cgr-secret-" + secrets.token_hex(8)
CANARY = ("print(sum(map(int, input().split())))", "2 3\n", "5\n")

needs_bwrap = pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap (bwrap) is not installed")


@pytest.fixture(scope="module", params=["bubblewrap", "rlimits"])
def executor(request):
    if request.param == "bubblewrap":
        if bwrap_path() is None:
            pytest.skip("bubblewrap (bwrap) is not installed")
        ex = ForkServerExecutor()
        ex.start()
    else:
        ex = SubprocessExecutor()
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def harness_files(tmp_path_factory):
    """Stand-ins for the harness's files: expected outputs, a results file, an MLflow db, a secret."""
    root = tmp_path_factory.mktemp("harness")
    (root / "expected_output.txt").write_text("EXPECTED-" + SECRET)
    (root / "results.json").write_text('{"secret": "%s"}' % SECRET)
    (root / "mlflow.db").write_bytes(b"SQLite " + SECRET.encode())
    os.environ["CGR_TEST_SECRET"] = SECRET
    yield root
    os.environ.pop("CGR_TEST_SECRET", None)


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() + str(p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def _run_checked(executor, harness_files, source, stdin="", limits=LIMITS):
    """Run ``source`` and check every universal property; return the result for the test's own assertion."""
    sandbox_before = getattr(executor, "sandbox_pid", None)
    restarts_before = getattr(executor, "restarts", 0)
    files_before = _snapshot(harness_files)
    t0 = time.monotonic()
    result = executor.run(textwrap.dedent(source), stdin, limits)
    elapsed = time.monotonic() - t0
    assert elapsed <= limits.wall_time_s + 1.0, f"run took {elapsed:.2f}s"
    assert result.status is not RunStatus.HARNESS_ERROR, result.detail
    deadline = time.monotonic() + 2.0
    left = run_uid_processes(executor.run_uid)
    while left and time.monotonic() < deadline:  # SIGKILLed processes may take a moment to be reaped
        time.sleep(0.05)
        left = run_uid_processes(executor.run_uid)
    assert left == [], f"processes left behind: {left}"
    assert _snapshot(harness_files) == files_before
    assert SECRET not in result.stdout and SECRET not in result.stderr_tail
    if sandbox_before is not None:
        assert executor.sandbox_pid == sandbox_before, "the sandbox had to be restarted"
        assert executor.restarts == restarts_before
    canary = executor.run(CANARY[0], CANARY[1], limits)
    assert (canary.status, canary.exit_code, canary.stdout) == (RunStatus.EXITED, 0, CANARY[2]), canary
    return result


def _skip_rlimits(executor, why: str) -> None:
    if executor.isolation is Isolation.RLIMITS:
        pytest.skip(f"rlimits-only fallback: {why}")


def test_infinite_loop(executor, harness_files):
    r = _run_checked(executor, harness_files, "while True: pass")
    assert r.status is RunStatus.TIME_LIMIT


def test_sleep_forever(executor, harness_files):
    r = _run_checked(executor, harness_files, "import time\ntime.sleep(10**6)")
    assert r.status is RunStatus.TIME_LIMIT and r.cpu_time_s < LIMITS.cpu_time_s


def test_ignores_sigterm(executor, harness_files):
    r = _run_checked(executor, harness_files, """
        import signal
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):
            signal.signal(s, signal.SIG_IGN)
        while True: pass
    """)
    assert r.status is RunStatus.TIME_LIMIT


def test_fork_bomb(executor, harness_files):
    r = _run_checked(executor, harness_files, """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """)
    assert r.status is RunStatus.TIME_LIMIT


def test_thread_bomb(executor, harness_files):
    r = _run_checked(executor, harness_files, """
        import threading, time
        n = 0
        try:
            while True:
                threading.Thread(target=time.sleep, args=(10**6,), daemon=True).start()
                n += 1
        except (RuntimeError, MemoryError):
            pass
        print(n)
        while True: pass
    """)
    assert r.status is RunStatus.TIME_LIMIT


def test_setsid_orphan_keeps_stdout_open(executor, harness_files):
    r = _run_checked(executor, harness_files, """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                while True:
                    time.sleep(0.01)
            os._exit(0)
        os.wait()
        print("parent done")
    """)
    assert (r.status, r.exit_code, r.stdout) == (RunStatus.EXITED, 0, "parent done\n")
    assert r.wall_time_s < LIMITS.wall_time_s


def test_memory_bomb_fast(executor, harness_files):
    r = _run_checked(executor, harness_files, "x = bytearray(8 * 1024**3)")
    assert r.status is RunStatus.MEMORY_LIMIT


def test_memory_bomb_slow(executor, harness_files):
    r = _run_checked(executor, harness_files, """
        chunks = []
        while True:
            chunks.append(bytearray(4 * 1024**2))
    """)
    assert r.status is RunStatus.MEMORY_LIMIT


def test_one_gigabyte_of_output(executor, harness_files):
    r = _run_checked(executor, harness_files, """
        import sys
        block = "x" * (1 << 20)
        for _ in range(1024):
            sys.stdout.write(block)
    """)
    assert r.status is RunStatus.OUTPUT_LIMIT and len(r.stdout) <= LIMITS.output_limit_bytes


def test_close_stdout_then_spin(executor, harness_files):
    r = _run_checked(executor, harness_files, "import os\nos.close(1)\nos.close(2)\nwhile True: pass")
    assert r.status is RunStatus.TIME_LIMIT


def test_never_reads_large_stdin(executor, harness_files):
    r = _run_checked(executor, harness_files, 'print("ignored")', stdin="1 " * (16 << 20))
    assert (r.status, r.exit_code, r.stdout) == (RunStatus.EXITED, 0, "ignored\n")


def test_partial_output_then_crash(executor, harness_files):
    r = _run_checked(executor, harness_files, 'print("partial", flush=True)\nraise RuntimeError("crash")')
    assert (r.status, r.exit_code, r.stdout) == (RunStatus.EXITED, 1, "partial\n")
    assert "RuntimeError: crash" in r.stderr_tail


def test_segfault_via_ctypes(executor, harness_files):
    r = _run_checked(executor, harness_files, "import ctypes\nctypes.string_at(0)")
    assert r.status is RunStatus.SIGNALED and r.signal == 11


def test_deep_recursion(executor, harness_files):
    r = _run_checked(executor, harness_files, """
        import sys
        sys.setrecursionlimit(10**8)
        def f(n):  # recursion through C (map) so it exhausts the C stack, not just the heap
            return list(map(f, [n + 1]))
        print(f(0))
    """)
    # CPython 3.11 overflows the C stack (SIGSEGV); newer versions raise RecursionError (exit status 1)
    assert r.status is RunStatus.SIGNALED or (r.status, r.exit_code) == (RunStatus.EXITED, 1), r
    assert r.stdout == ""


def test_sys_exit_zero_after_partial_output(executor, harness_files):
    r = _run_checked(executor, harness_files, 'import sys\nprint("half")\nsys.exit(0)\nprint("never")')
    assert (r.status, r.exit_code, r.stdout) == (RunStatus.EXITED, 0, "half\n")


def test_os_exit_zero_after_partial_output(executor, harness_files):
    # os._exit skips flushing Python's buffer: the unflushed line is lost, the flushed one is not (as in CPython)
    r = _run_checked(executor, harness_files,
                     'import os, sys\nprint("flushed", flush=True)\nprint("buffered")\nos._exit(0)')
    assert (r.status, r.exit_code, r.stdout) == (RunStatus.EXITED, 0, "flushed\n")


def test_write_and_delete_files_outside_tmp(executor, harness_files):
    targets = [str(p) for p in sorted(harness_files.iterdir())]
    repo = str(Path(__file__).resolve().parents[1])
    r = _run_checked(executor, harness_files, f"""
        import os
        wins = []
        for path in {targets!r} + ["/usr/lib/cgr_pwned", "/etc/cgr_pwned", {repo!r} + "/cgr_pwned",
                                   {repo!r} + "/README.md", "/usr/bin/python3"]:
            try:
                with open(path, "a") as fh:
                    fh.write("pwned")
                wins.append("wrote " + path)
            except OSError:
                pass
            try:
                os.remove(path)
                wins.append("deleted " + path)
            except OSError:
                pass
        with open("scratch", "w") as fh:  # its own working directory (a private tmp) is writable
            fh.write("ok")
        print(wins)
    """)
    assert (r.status, r.stdout) == (RunStatus.EXITED, "[]\n"), r
    assert not Path(repo, "cgr_pwned").exists() and not Path("/usr/lib/cgr_pwned").exists()


def test_tmp_does_not_carry_over_between_runs(executor, harness_files):
    _skip_rlimits(executor, "no private /tmp; the program can write the host's /tmp")
    _run_checked(executor, harness_files, "open('/tmp/carry', 'w').write('x')\nopen('/dev/shm/carry', 'w').write('x')")
    r = _run_checked(executor, harness_files,
                     "import os\nprint(os.path.exists('/tmp/carry'), os.path.exists('/dev/shm/carry'))")
    assert r.stdout == "False False\n"


def test_read_harness_files_and_expected_outputs(executor, harness_files):
    targets = [str(p) for p in sorted(harness_files.iterdir())]
    repo = Path(__file__).resolve().parents[1]
    r = _run_checked(executor, harness_files, f"""
        import glob
        leaked = []
        for path in {targets!r} + glob.glob({str(repo)!r} + "/**", recursive=True)[:200]:
            try:
                leaked.append(open(path, errors="replace").read()[:200])
            except OSError:
                pass
        print(len(leaked))
        print("".join(leaked))
    """)
    assert r.status is RunStatus.EXITED
    if executor.isolation is Isolation.BUBBLEWRAP:
        assert r.stdout.splitlines()[0] == "0"  # the repository and the harness files are not even visible


def test_read_environment_and_parent_environ(executor, harness_files):
    r = _run_checked(executor, harness_files, """
        import os
        print(dict(os.environ))
        for pid in {os.getppid(), 1, os.getpid()}:
            try:
                print(open(f"/proc/{pid}/environ").read())
            except OSError as exc:
                print("denied", pid, type(exc).__name__)
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    print(open(f"/proc/{entry}/environ").read(), open(f"/proc/{entry}/cmdline").read())
                except OSError:
                    pass
    """)
    assert r.status is RunStatus.EXITED


def test_connect_to_localhost_server(executor, harness_files):
    _skip_rlimits(executor, "no network namespace; 127.0.0.1 is reachable")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    got: list[bytes] = []

    def accept():
        try:
            conn, _ = server.accept()
            got.append(conn.recv(100))
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    r = _run_checked(executor, harness_files, f"""
        import socket
        try:
            s = socket.create_connection(("127.0.0.1", {port}), timeout=0.5)
            s.sendall(b"hello")
            print("connected")
        except OSError as exc:
            print("blocked", type(exc).__name__)
    """)
    thread.join()
    server.close()
    assert r.stdout.startswith("blocked") and got == []


def test_resolve_hostname(executor, harness_files):
    _skip_rlimits(executor, "no network namespace; DNS may resolve")
    r = _run_checked(executor, harness_files, """
        import socket
        for host in ("pypi.org", "localhost", "example.com"):
            try:
                socket.setdefaulttimeout(0.5)
                print(host, socket.getaddrinfo(host, 443)[0][4])
                s = socket.create_connection((socket.getaddrinfo(host, 443)[0][4][0], 443), timeout=0.5)
                print("connected", host)
            except OSError as exc:
                print(host, "failed", type(exc).__name__)
    """)
    assert "connected" not in r.stdout


def test_kill_parent_with_sigkill(executor, harness_files):
    _skip_rlimits(executor, "no per-run PID namespace: os.kill(os.getppid(), 9) would hit the harness itself")
    r = _run_checked(executor, harness_files, """
        import os
        try:
            os.kill(os.getppid(), 9)
            print("sent")
        except OSError as exc:
            print("refused", type(exc).__name__)
        print("alive")
    """)
    assert r.status is RunStatus.EXITED and r.stdout.endswith("alive\n")


def test_kill_minus_one_with_sigkill(executor, harness_files):
    _skip_rlimits(executor, "no per-run PID namespace: os.kill(-1, 9) as root kills every process on the machine")
    r = _run_checked(executor, harness_files, """
        import os
        try:
            os.kill(-1, 9)
            print("sent")
        except OSError as exc:
            print("refused", type(exc).__name__)
        print("alive")
    """)
    assert r.status is RunStatus.EXITED and r.stdout.endswith("alive\n")


@needs_bwrap
def test_program_sees_only_its_own_processes(harness_files):
    ex = ForkServerExecutor()
    try:
        r = ex.run("import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), os.getpid())",
                   "", LIMITS)
    finally:
        ex.close()
    assert r.stdout == "[1, 2] 2\n"
