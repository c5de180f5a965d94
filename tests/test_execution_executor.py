"""The executors on ordinary programs: AtCoder stdin/stdout idioms, measurements, verdict parity between the fork
server and a fresh interpreter, transparent sandbox restarts, and the choice of executor from the config."""

from __future__ import annotations

import os
import threading
import time
import warnings

import pytest

from codegen_ray.config import ExecutionConfig
from codegen_ray.errors import UserError
from codegen_ray.execution import Isolation, Limits, RunStatus, limits_from_config, make_executor
from codegen_ray.execution import bubblewrap as bw
from codegen_ray.execution.bubblewrap import ForkServerExecutor
from codegen_ray.execution.common import PROGRAM_ENV
from codegen_ray.execution.program import Program
from codegen_ray.execution.factory import IsolationFallbackWarning, cpus_each, prepare_ahead_for
from codegen_ray.execution.subprocess_executor import SubprocessExecutor

LIMITS = Limits(cpu_time_s=1.0, wall_time_s=3.0, memory_mb=512, output_limit_bytes=1 << 20)
needs_bwrap = pytest.mark.skipif(bw.bwrap_path() is None, reason="bubblewrap (bwrap) is not installed")

# (name, source, stdin): correct, wrong and failing programs; both executors must agree on every one
PROGRAMS = [
    ("input", "a, b = map(int, input().split())\nprint(a + b)", "3 4\n"),
    ("stdin_buffer", "import sys\nprint(sum(map(int, sys.stdin.buffer.read().split())))", "1 2 3\n"),
    ("open0", "print(open(0).read().strip()[::-1])", "abc\n"),
    ("dev_stdin", "print(open('/dev/stdin').read().split())", "p q\n"),
    ("readlines", "import sys\nprint(len(sys.stdin.readlines()))", "a\nb\nc\n"),
    ("stdout_buffer", "import sys\nsys.stdout.buffer.write(b'raw\\n')", ""),
    ("exit_builtin", "print('x')\nexit()", ""),
    ("exit_code", "import sys\nprint('y')\nsys.exit(3)", ""),
    ("exit_message", "import sys\nsys.exit('bad input')", ""),
    ("quit", "quit(5)", ""),
    ("syntax_error", "def f(:\n  pass", ""),
    ("null_byte", "print(1)\x00", ""),
    ("indentation", "if True:\nprint(1)", ""),
    ("name_error", "print(undefined_name)", ""),
    ("eof_error", "input()", ""),
    ("zero_division", "print(1 // 0)", ""),
    ("assert", "assert 1 == 2, 'nope'", ""),
    ("unicode", "print('héllo ✓', input())", "ü\n"),
    ("large_output", "print('\\n'.join(map(str, range(100000))))", ""),
    ("hash_order", "print(list({'apple', 'banana', 'cherry', 'date', 'elder'}))", ""),
    ("name_main", "if __name__ == '__main__':\n    print('main')", ""),
    ("argv", "import sys\nprint(sys.argv)", ""),
    ("recursion_limit", "import sys\nsys.setrecursionlimit(10000)\ndef f(n): return n if n == 0 else f(n-1)\n"
                        "print(f(5000))", ""),
    ("stderr_noise", "import sys\nprint('out')\nprint('err', file=sys.stderr)", ""),
    ("abort", "import os\nos.abort()", ""),
    ("self_sigkill", "import os, signal\nprint('a', flush=True)\nos.kill(os.getpid(), signal.SIGKILL)", ""),
    ("memory_error", "x = [0] * (10**10)", ""),
    ("cpu_over", "i = 0\nwhile True:\n    i += 1", ""),
    ("threads", "import threading\nr = []\nts = [threading.Thread(target=r.append, args=(i,)) for i in range(8)]\n"
                "[t.start() for t in ts]\n[t.join() for t in ts]\nprint(sorted(r))", ""),
    ("atexit", "import atexit\natexit.register(lambda: print('bye'))\nprint('hi')", ""),
    ("file_in_cwd", "open('scratch.txt', 'w').write('z')\nprint(open('scratch.txt').read())", ""),
]


@pytest.fixture(scope="module")
def fork_executor():
    if bw.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    ex = ForkServerExecutor()
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def plain_executor():
    return SubprocessExecutor()


def _key(r):
    return r.status, r.exit_code, r.signal, r.stdout


@needs_bwrap
def test_fork_server_verdicts_equal_fresh_interpreter(fork_executor, plain_executor):
    mismatches = []
    for name, source, stdin in PROGRAMS:
        a = fork_executor.run(source, stdin, LIMITS)
        b = plain_executor.run(source, stdin, LIMITS)
        if _key(a) != _key(b):
            mismatches.append((name, _key(a), _key(b)))
    assert mismatches == []


@pytest.mark.parametrize("which", ["fork", "plain"])
def test_stdin_idioms_and_exit_statuses(which, request):
    if which == "fork" and bw.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    ex = request.getfixturevalue("fork_executor" if which == "fork" else "plain_executor")
    results = {name: ex.run(src, stdin, LIMITS) for name, src, stdin in PROGRAMS}
    assert _key(results["input"]) == (RunStatus.EXITED, 0, None, "7\n")
    assert results["stdin_buffer"].stdout == "6\n"
    assert results["open0"].stdout == "cba\n"
    assert results["dev_stdin"].stdout == "['p', 'q']\n" and results["readlines"].stdout == "3\n"
    assert results["stdout_buffer"].stdout == "raw\n"
    assert _key(results["exit_builtin"]) == (RunStatus.EXITED, 0, None, "x\n")
    assert _key(results["exit_code"]) == (RunStatus.EXITED, 3, None, "y\n")
    assert results["exit_message"].exit_code == 1 and "bad input" in results["exit_message"].stderr_tail
    assert results["quit"].exit_code == 5
    for name in ("syntax_error", "null_byte", "indentation"):
        assert results[name].status is RunStatus.COMPILE_ERROR, name
    assert results["name_error"].exit_code == 1 and "NameError" in results["name_error"].detail
    assert results["unicode"].stdout == "héllo ✓ ü\n"
    assert results["large_output"].stdout.count("\n") == 100000
    assert results["abort"].status is RunStatus.SIGNALED and results["abort"].signal == 6
    assert results["self_sigkill"].status is RunStatus.SIGNALED and results["self_sigkill"].stdout == "a\n"
    assert results["memory_error"].status is RunStatus.MEMORY_LIMIT
    assert results["cpu_over"].status is RunStatus.TIME_LIMIT
    assert results["threads"].stdout == "[0, 1, 2, 3, 4, 5, 6, 7]\n"
    assert results["atexit"].stdout == "hi\nbye\n"
    assert results["file_in_cwd"].stdout == "z\n"
    assert all(r.isolation is ex.isolation for r in results.values())


@pytest.mark.parametrize("which", ["fork", "plain"])
def test_measures_cpu_time_and_memory(which, request):
    if which == "fork" and bw.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    ex = request.getfixturevalue("fork_executor" if which == "fork" else "plain_executor")
    busy = ex.run("import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass", "", LIMITS)
    idle = ex.run("pass", "", LIMITS)
    big = ex.run("x = bytearray(200 * 1024 * 1024)\nx[::4096] = b'1' * len(x[::4096])", "", LIMITS)
    assert busy.status is RunStatus.EXITED and 0.3 <= busy.cpu_time_s < 1.0
    assert idle.cpu_time_s < busy.cpu_time_s and busy.wall_time_s >= busy.cpu_time_s * 0.9
    assert big.peak_memory_kb is not None and big.peak_memory_kb >= 200 * 1024


def test_cpu_time_excludes_interpreter_start_up(plain_executor):
    """A fresh interpreter spends CPU before the program starts; that must not count toward its time limit."""
    r = plain_executor.run("import time\nprint(time.process_time())", "", LIMITS)
    assert r.cpu_time_s < float(r.stdout)


@needs_bwrap
def test_sandbox_restarted_transparently_when_it_dies():
    ex = ForkServerExecutor()
    try:
        assert ex.run("print(1)", "", LIMITS).stdout == "1\n"
        first = ex.sandbox_pid
        os.killpg(first, 9)
        time.sleep(0.1)
        r = ex.run("print(2)", "", LIMITS)
        assert (r.status, r.stdout) == (RunStatus.EXITED, "2\n")
        assert ex.sandbox_pid != first and ex.restarts == 1
    finally:
        ex.close()


@needs_bwrap
def test_sandbox_dying_mid_run_is_retried_not_scored():
    ex = ForkServerExecutor()
    try:
        ex.start()
        pid = ex.sandbox_pid
        killer = threading.Timer(0.3, lambda: os.killpg(pid, 9))
        killer.start()
        r = ex.run("import time\ntime.sleep(0.6)\nprint('done')", "", LIMITS)
        killer.join()
        assert (r.status, r.stdout) == (RunStatus.EXITED, "done\n") and ex.restarts == 1
    finally:
        ex.close()


def test_persistent_sandbox_failure_is_a_harness_error():
    ex = ForkServerExecutor(bwrap="/bin/false")
    r = ex.run("print(1)", "", LIMITS)
    assert r.status is RunStatus.HARNESS_ERROR and r.isolation is Isolation.BUBBLEWRAP and r.stdout == ""
    assert "attempt 2" in r.detail


def test_limits_from_config():
    cfg = ExecutionConfig(timeout_s=2.0, wall_timeout_factor=3.0, memory_mb=300, output_limit_kb=64)
    assert limits_from_config(cfg) == Limits(cpu_time_s=2.0, wall_time_s=7.0, memory_mb=300,
                                             output_limit_bytes=64 * 1024)


@needs_bwrap
def test_make_executor_picks_bubblewrap():
    ex = make_executor(ExecutionConfig(isolation="auto"))
    try:
        assert ex.isolation is Isolation.BUBBLEWRAP
        assert ex.run("print(42)", "", LIMITS).stdout == "42\n"
    finally:
        ex.close()


@pytest.mark.parametrize("setting, cpus, ahead", [
    ("auto", None, False), ("auto", 1.0, False), ("auto", 1.99, False), ("auto", 2.0, True), ("auto", 16, True),
    ("always", None, True), ("always", 0.2, True), ("never", 16, False)])
def test_prepare_ahead_auto_wants_a_spare_core(setting, cpus, ahead):
    assert prepare_ahead_for(setting, cpus) is ahead


def test_prepare_ahead_unknown_setting_is_a_user_error():
    with pytest.raises(UserError, match="execution.prepare_ahead"):
        prepare_ahead_for("on", 4.0)  # YAML reads a bare on/off as a boolean: the settings are words it keeps


def test_cpus_each_shares_this_process_cores():
    cores = len(os.sched_getaffinity(0))
    assert cpus_each(1) == cores and cpus_each(4) == cores / 4


@needs_bwrap
@pytest.mark.parametrize("setting, cpus, ahead", [("auto", 2.0, True), ("auto", 1.0, False), ("never", 8.0, False)])
def test_make_executor_passes_prepare_ahead_to_the_sandbox(setting, cpus, ahead):
    ex = make_executor(ExecutionConfig(prepare_ahead=setting), cpus=cpus)
    try:
        assert ex.prepare_ahead is ahead
        with ex.session(Program("print(int(input()) + 1)"), LIMITS) as session:
            assert [session.run(f"{n}\n", last=n == 2).stdout for n in range(3)] == ["1\n", "2\n", "3\n"]
    finally:
        ex.close()


def test_make_executor_rlimits_on_request():
    ex = make_executor(ExecutionConfig(isolation="rlimits"))
    assert ex.isolation is Isolation.RLIMITS and isinstance(ex, SubprocessExecutor)


def test_make_executor_falls_back_loudly(monkeypatch, caplog):
    monkeypatch.setattr(bw, "bwrap_path", lambda: None)
    with pytest.warns(IsolationFallbackWarning, match="resource limits ONLY"):
        ex = make_executor(ExecutionConfig(isolation="auto"))
    assert ex.isolation is Isolation.RLIMITS
    assert any("SANDBOX UNAVAILABLE" in rec.getMessage() for rec in caplog.records)
    assert ex.run("print(7)", "", LIMITS).stdout == "7\n"


def test_make_executor_refuses_below_minimum(monkeypatch):
    monkeypatch.setattr(bw, "bwrap_path", lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserError, match="min_isolation=bubblewrap"):
            make_executor(ExecutionConfig(isolation="bubblewrap", min_isolation="bubblewrap"))


EXIT_PROGRAMS = [
    "print('a')",
    "import sys\nprint('a')\nsys.exit(4)",
    "import sys\nsys.exit('message')",
    "import sys\nsys.exit(256 + 7)",
    "raise KeyError('k')",
    "import atexit\natexit.register(print, 'at exit')\nprint('body')",
    "import threading, time\ndef late():\n    time.sleep(0.2)\n    print('thread done')\n"
    "threading.Thread(target=late).start()\nprint('main done')",
    "w = open(1, 'w')\nw.write('unflushed file object\\n')",
    "import sys\nout = open(sys.stdout.fileno(), 'w', buffering=1 << 20, closefd=False)\nout.write('fast io\\n')",
    "class Bye:\n    def __del__(self):\n        print('del ran')\nb = Bye()\nprint('x')",
    "import os\nprint('lost?')\nos.close(1)",
    "import sys\nsys.stdout.write('no newline')",
]


@pytest.mark.parametrize("which", ["fork", "plain"])
def test_exit_behaviour_matches_the_real_interpreter(which, request):
    """Status and stdout at exit equal plain ``python3 -c`` (the executors replace CPython's finalization)."""
    import subprocess

    if which == "fork" and bw.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    ex = request.getfixturevalue("fork_executor" if which == "fork" else "plain_executor")
    for source in EXIT_PROGRAMS:
        ref = subprocess.run([ex.python, "-s", "-c", source], capture_output=True, text=True, timeout=30,
                             env=PROGRAM_ENV)
        got = ex.run(source, "", LIMITS)
        assert (got.exit_code, got.stdout) == (ref.returncode, ref.stdout), source
        assert ref.stderr.strip().splitlines()[-1:] == got.stderr_tail.strip().splitlines()[-1:], source


def test_program_tails_are_identical():
    """Both executors run the program through the same text (run, exit status, shutdown): _program_tail.py, which
    each script ends with and neither copies."""
    from pathlib import Path

    from codegen_ray.execution.common import PROGRAM_TAIL, script_text

    here = Path(bw.__file__).parent
    tail = (here / PROGRAM_TAIL).read_text(encoding="utf-8")
    for name in ("_forkserver_main.py", "_bootstrap_main.py"):
        text = script_text(name)
        assert text.endswith(tail) and text.count("def _finish(") == 1, name
        assert "def _finish(" not in (here / name).read_text(encoding="utf-8"), name
        compile(text, name, "exec")


@needs_bwrap
def test_sandbox_outlives_the_thread_that_created_it():
    """bwrap --die-with-parent fires when the creating *thread* exits; executors made in pool threads must survive."""
    box = {}

    def make():
        box["ex"] = ForkServerExecutor()
        box["ex"].start()

    t = threading.Thread(target=make)
    t.start()
    t.join()
    ex = box["ex"]
    try:
        pid = ex.sandbox_pid
        time.sleep(0.2)
        r = ex.run("print('still here')", "", LIMITS)
        assert r.stdout == "still here\n" and ex.sandbox_pid == pid and ex.restarts == 0
    finally:
        ex.close()
