"""Between the tests of one program (one fork-server session), nothing test i left is visible to test i+1.

Each test runs a hostile "test 1" and a probing "test 2" of the same program in one session: a background process
started by test 1 that tries to answer test 2, files planted in /tmp and /dev/shm, SysV and POSIX IPC objects,
sockets, kernel keyrings, the pid counter and what pid 1 (the harness's monitor) did. After the session, no
process of the run uid is left.
"""

from __future__ import annotations

import os
import select
import socket
import textwrap
import threading
import time

import pytest

from codegen_ray.execution.base import Limits, RunStatus
from codegen_ray.execution.bubblewrap import ForkServerExecutor, bwrap_path
from codegen_ray.execution.program import Program
from faults import run_uid_processes

pytestmark = pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap (bwrap) is not installed")

LIMITS = Limits(cpu_time_s=1.0, wall_time_s=3.0, memory_mb=256, output_limit_bytes=1 << 20)


@pytest.fixture(scope="module", params=[False, True], ids=["one-monitor", "prepare-ahead"])
def executor(request):
    """Both session layouts: one monitor per program, and two alternating monitors (``prepare_ahead``), where the
    process of test 2 is prepared -- by the other monitor -- while test 1 runs."""
    ex = ForkServerExecutor(prepare_ahead=request.param)
    ex.start()
    yield ex
    ex.close()


def _two_tests(executor, source: str, first: str = "1\n", second: str = "2\n"):
    """Run ``source`` on two inputs in one session; check nothing of the run uid survives; return both results.
    Test 2 is the session's last, as a grader marks it: no process is prepared while it runs (with prepare-ahead
    one would be, by test 1's monitor, and its socket pair would show in test 2's /proc/net/unix or not, by timing)."""
    restarts = executor.restarts
    with executor.session(Program(textwrap.dedent(source)), LIMITS) as session:
        r1 = session.run(first)
        r2 = session.run(second, last=True)
    deadline = time.monotonic() + 2.0
    while run_uid_processes(executor.run_uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run_uid_processes(executor.run_uid) == []
    assert executor.restarts == restarts, "the sandbox had to be restarted"
    for r in (r1, r2):
        assert r.status is not RunStatus.HARNESS_ERROR, r.detail
    return r1, r2


def test_background_process_from_test_1_cannot_answer_test_2(executor):
    # test 1 leaves a daemon that writes test 2's expected answer into every other process's stdout and into /tmp;
    # test 2 prints nothing of its own and waits for help
    r1, r2 = _two_tests(executor, """
        import os, sys, time
        if input() == "1":
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    me = os.getpid()
                    end = time.time() + 2.5
                    while time.time() < end:
                        try:
                            with open("/tmp/answer", "w") as fh:
                                fh.write("ANSWER-2\\n")
                        except OSError:
                            pass
                        for p in os.listdir("/proc"):
                            if p.isdigit() and int(p) != me:
                                try:
                                    with open(f"/proc/{p}/fd/1", "w") as out:
                                        out.write("ANSWER-2\\n")
                                except OSError:
                                    pass
                        time.sleep(0.01)
                os._exit(0)
            time.sleep(0.2)  # the daemon is running when test 1 ends
            print("answer-1")
        else:
            time.sleep(0.5)
            print(open("/tmp/answer").read() if os.path.exists("/tmp/answer") else "nothing")
    """)
    assert (r1.status, r1.stdout) == (RunStatus.EXITED, "answer-1\n")
    assert (r2.status, r2.stdout) == (RunStatus.EXITED, "nothing\n")


def test_files_planted_in_tmp_and_dev_shm_are_gone(executor):
    r1, r2 = _two_tests(executor, """
        import os
        if input() == "1":
            os.makedirs("/tmp/deep/er", exist_ok=True)
            for path in ("/tmp/plant", "/tmp/.hidden", "/tmp/deep/er/plant", "/dev/shm/plant", "plant-in-cwd"):
                with open(path, "w") as fh:
                    fh.write("for test 2")
            os.mkfifo("/tmp/fifo")
            print("planted")
        else:
            print(os.getcwd(), sorted(os.listdir("/tmp")), sorted(os.listdir("/dev/shm")), os.statvfs("/tmp").f_ffree)
    """)
    assert r1.stdout == "planted\n"
    cwd, rest = r2.stdout.split(" ", 1)
    assert cwd == "/tmp" and rest.startswith("[] [] ")
    _, fresh = _two_tests(executor, "import os\ninput()\nprint(os.statvfs('/tmp').f_ffree)")
    assert rest.split()[-1] == fresh.stdout.split()[-1]  # a fresh tmpfs: no inode used


def test_nothing_of_test_1_reaches_test_3_either(executor):
    """With ``prepare_ahead`` tests alternate between two monitors: test 3 runs under test 1's monitor again, after
    its cleanup (the other layout: the same monitor throughout). Files planted and a daemon started by test 1 must
    be gone for tests 2 and 3 alike."""
    source = textwrap.dedent("""
        import os, sys, time
        if input() == "1":
            for path in ("/tmp/plant", "/dev/shm/plant"):
                with open(path, "w") as fh:
                    fh.write("for test 3")
            if os.fork() == 0:
                os.setsid()
                while True:
                    with open("/tmp/daemon", "w") as fh:
                        fh.write("alive")
                    time.sleep(0.01)
            print("planted")
        else:
            time.sleep(0.05)
            print(sorted(os.listdir("/tmp")), sorted(os.listdir("/dev/shm")),
                  sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
    """)
    with executor.session(Program(source), LIMITS) as session:
        results = [session.run(stdin, last=stdin == "3\n") for stdin in ("1\n", "2\n", "3\n")]
    assert [r.stdout for r in results] == ["planted\n"] + ["[] [] [1, 2]\n"] * 2, results


def test_a_closed_session_leaves_only_the_next_programs_monitor(executor):
    """Closing is synchronous: once ``close()`` returns, nothing of the session runs -- not even, with prepare-ahead,
    the second monitor and the process it prepared for a test 2 that never came. What is left in the sandbox is the
    fork server and the one monitor it keeps ahead for the next program. The program takes each monitor about half
    a second to compile, so a second monitor that close() did not wait for would still be compiling when checked."""
    source = "print(input())\n_ = [" + "0," * 400_000 + "]\n"
    with executor.session(Program(source), LIMITS) as session:
        assert session.run("only\n").stdout == "only\n"  # not marked last: a next test process is prepared
    assert len(_sandbox_pythons(executor.sandbox_pid)) == 2


def _sandbox_pythons(pid: int) -> list[int]:
    """The live python3 processes below ``pid`` (the sandbox's bwrap), from the host's /proc (a monitor that has
    exited stays a zombie until the fork server's next request reaps it: it runs nothing)."""
    found = []
    for child in open(f"/proc/{pid}/task/{pid}/children").read().split():
        head, tail = open(f"/proc/{child}/stat").read().rsplit(")", 1)
        if head.split("(", 1)[1].startswith("python") and tail.split()[0] != "Z":
            found.append(int(child))
        found += _sandbox_pythons(int(child))
    return found


def test_a_tmpfs_whose_metadata_test_1_changed_is_replaced(executor):
    """The monitor keeps a test's tmpfs for the next test only while a program could not tell it from a fresh
    one. Test 1 only touches the roots' metadata -- new times on /tmp (utime), an access time on /dev/shm (a
    listing) -- and leaves no file, with pauses longer than a clock tick around it (tmpfs times are coarse);
    test 2 must see two fresh, untouched mounts: each root's three times equal, and none of them a time test 1 set.
    (The two mounts are made one after the other, so a clock tick may fall between them: their times may differ.)"""
    r1, r2 = _two_tests(executor, """
        import os, time
        def times(path):
            st = os.stat(path)
            return [st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns]
        if input() == "1":
            time.sleep(0.03)
            os.utime("/tmp")  # the run uid may set the times to "now" (write permission), not to a chosen value
            time.sleep(0.03)
            os.listdir("/dev/shm")  # relatime: the first read after a change moves the access time
            print(times("/tmp") + times("/dev/shm"))
            time.sleep(0.03)
        else:
            print(times("/tmp") + times("/dev/shm"))
    """)
    seen, fresh = eval(r1.stdout), eval(r2.stdout)
    assert seen[0] == seen[1] == seen[2] > seen[4] and seen[3] > seen[4] == seen[5], seen  # test 1 changed both
    # each root never touched since its mount (one time for all three), and no time that test 1 set
    assert len(set(fresh[:3])) == 1 and len(set(fresh[3:])) == 1, (seen, fresh)
    assert not {fresh[0], fresh[3]} & {seen[0], seen[3]}, (seen, fresh)


def test_prepare_ahead_forks_the_next_test_process_while_a_test_runs(executor):
    """With ``prepare_ahead`` the process of test 2 exists (its R is waiting on the other monitor's channel) by
    the time test 1 -- which sleeps -- has returned, and test 1's monitor prepares nothing until asked (test 3
    would be its next); with one monitor there is one channel (it forks test 2's process once test 1 ended)."""
    with executor.session(Program("import time\ntime.sleep(float(input()))\nprint('slept')"), LIMITS) as session:
        r1 = session.run("0.3\n")
        waiting = [m is not None and bool(select.select([m.chan], [], [], 0)[0]) for m in session._monitors]
        r2 = session.run("0\n", last=True)
    assert (r1.stdout, r2.stdout) == ("slept\n", "slept\n")
    if executor.prepare_ahead:
        assert waiting == [False, True]
    else:
        assert len(waiting) == 1


def test_shared_memory_and_message_queues_are_gone(executor):
    r1, r2 = _two_tests(executor, """
        import ctypes, ctypes.util, os
        libc = ctypes.CDLL(None, use_errno=True)
        rt = ctypes.CDLL(ctypes.util.find_library("rt") or "librt.so.1", use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        IPC_CREAT, KEY = 0o1000, 0x4347
        if input() == "1":
            shm = libc.shmget(KEY, 4096, IPC_CREAT | 0o666)
            if shm >= 0:
                ctypes.memmove(libc.shmat(shm, None, 0), b"ANSWER-2", 8)
            sem = libc.semget(KEY, 1, IPC_CREAT | 0o666)
            msg = libc.msgget(KEY, IPC_CREAT | 0o666)
            mq = rt.mq_open(b"/cgr-answer", os.O_CREAT | os.O_RDWR, 0o666, None)
            os.write(os.open("/dev/shm/cgr-answer", os.O_CREAT | os.O_RDWR, 0o666), b"ANSWER-2")  # shm_open
            print(shm >= 0, sem >= 0, msg >= 0, mq >= 0)
        else:
            found = [libc.shmget(KEY, 0, 0) >= 0, libc.semget(KEY, 0, 0) >= 0, libc.msgget(KEY, 0) >= 0,
                     rt.mq_open(b"/cgr-answer", os.O_RDONLY) >= 0, os.path.exists("/dev/shm/cgr-answer")]
            tables = [len(open(f"/proc/sysvipc/{t}").read().splitlines()) - 1 for t in ("shm", "sem", "msg")]
            print(found, tables)
    """)
    assert r1.stdout == "True True True True\n", r1  # test 1 did create them
    assert r2.stdout == "[False, False, False, False, False] [0, 0, 0]\n", r2.stderr_tail


def test_pid_counter_restarts_and_pid_1_is_opaque(executor):
    r1, r2 = _two_tests(executor, """
        import os
        if input() == "1":
            for _ in range(50):
                pid = os.fork()
                if pid == 0:
                    os._exit(7)
                os.waitpid(pid, 0)
        procs = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        try:
            stat = open("/proc/1/stat").read()
        except OSError as exc:
            stat = type(exc).__name__
        print(os.getpid(), os.getppid(), procs, stat)
    """)
    assert r1.stdout == "2 1 [1, 2] PermissionError\n"
    assert r2.stdout == r1.stdout


def test_kernel_keyrings_are_refused(executor):
    source = """
        import ctypes, os, platform
        libc = ctypes.CDLL(None, use_errno=True)
        add_key, keyctl = {"x86_64": (248, 250), "aarch64": (217, 219)}[platform.machine()]
        if input() == "1":
            rc = libc.syscall(add_key, b"user", b"cgr", b"ANSWER-2", 8, ctypes.c_int(-4))  # the user keyring
        else:
            rc = libc.syscall(keyctl, 10, ctypes.c_int(-4), b"user", b"cgr", 0)  # KEYCTL_SEARCH
        print(rc, os.strerror(ctypes.get_errno()))
    """
    r1, r2 = _two_tests(executor, source)
    assert r1.stdout == r2.stdout == "-1 Function not implemented\n"  # ENOSYS from the seccomp filter
    _, other_program = _two_tests(executor, textwrap.dedent(source) + "# another program\n")
    assert other_program.stdout == "-1 Function not implemented\n"


def test_no_socket_survives_a_test(executor):
    r1, r2 = _two_tests(executor, """
        import os, socket, time
        if input() == "1":
            made = []
            try:
                s = socket.socket(socket.AF_UNIX)
                s.bind("\\0cgr-answer")
                s.listen(1)
                made.append("unix")
            except OSError as exc:
                made.append(type(exc).__name__)
            try:
                t = socket.socket()
                t.bind(("0.0.0.0", 4242))
                t.listen(1)
                c = socket.create_connection(("127.0.0.1", 4242), timeout=0.5)
                made.append("tcp")
            except OSError as exc:
                made.append(type(exc).__name__)
            if os.fork() == 0:  # keeps them open after the test's process exits
                time.sleep(10)
            print(made)
        else:
            try:
                socket.socket(socket.AF_UNIX).connect("\\0cgr-answer")
                print("connected")
            except OSError as exc:
                print(type(exc).__name__)
            print(sum(len(open(f"/proc/net/{t}").read().splitlines()) - 1 for t in ("tcp", "tcp6", "unix", "udp")))
    """)
    assert r1.stdout.startswith("['unix', "), r1.stderr_tail
    _, fresh = _two_tests(executor, "input()\nprint(sum(len(open(f'/proc/net/{t}').read().splitlines()) - 1 "
                                    "for t in ('tcp', 'tcp6', 'unix', 'udp')))")
    assert r2.stdout == "ConnectionRefusedError\n" + fresh.stdout  # only the harness's own socket pairs


def test_many_tests_in_one_session_stay_fast_and_correct(executor):
    """A session is one request: a program on 50 inputs gets 50 correct, independent answers."""
    with executor.session(Program("import sys\nn = int(input())\nprint(n * n)\nsys.exit(n % 3)"), LIMITS) as session:
        results = [session.run(f"{n}\n") for n in range(50)]
    assert [(r.stdout, r.exit_code) for r in results] == [(f"{n * n}\n", n % 3) for n in range(50)]
    assert all(r.cpu_time_s < LIMITS.cpu_time_s for r in results)


def _reaped_child_pidfd() -> tuple[int, int]:
    """A pidfd of a child that exited and was reaped, and the child's pid."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    pidfd = os.pidfd_open(pid)
    os.waitpid(pid, 0)
    return pidfd, pid


def test_the_host_pid_of_a_reaped_process_is_none_not_a_failure():
    """A pidfd of a process that exited and was reaped says ``Pid: -1``; the harness reads that as gone."""
    from codegen_ray.execution.forkserver_session import _host_pid

    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    pidfd = os.pidfd_open(pid)
    try:
        assert _host_pid(pidfd) == pid
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        assert _host_pid(pidfd) is None
    finally:
        os.close(pidfd)


def test_a_program_reaped_before_its_cpu_time_is_first_read_is_not_a_sandbox_failure():
    """The harness first reads a test's CPU clock when the program could have used its limit (cpu_time_s / cores
    after the test started). When the harness wakes late (a loaded machine) the program may have exited and been
    reaped by then, its exit report still unread: that is a finished program whose report is on its way, not a
    sandbox failure (it was a harness error, on both attempts, for a ``time.sleep(1.0)`` under a 2 s limit on 2
    loaded cores)."""
    import socket

    from codegen_ray.execution.common import RunIO
    from codegen_ray.execution.forkserver_session import _NCPU, _Watch

    pidfd, _pid = _reaped_child_pidfd()
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    io = RunIO(b"", LIMITS.output_limit_bytes)
    try:
        ours.setblocking(False)
        t0 = time.monotonic()
        watch = _Watch(LIMITS, pidfd, ours, t0)
        watch._check(io, t0 + LIMITS.cpu_time_s / _NCPU + 0.05)  # late, but well before the wall backstop
        assert watch.killed is None
        assert watch.next_check == watch.deadline  # nothing more to read; the backstop still stands
    finally:
        io.close()
        ours.close()
        theirs.close()
        os.close(pidfd)


def test_a_monitor_that_never_offers_a_process_is_a_sandbox_failure_after_the_ready_timeout(monkeypatch):
    """Waiting for the next test process is bounded (READY_TIMEOUT_S), not a hang, even for the first, non-blocking
    try; a process that is waiting is taken at once, with its fds."""
    from codegen_ray.execution import forkserver_session as fss

    monkeypatch.setattr(fss, "READY_TIMEOUT_S", 0.3)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    result: list = []
    waiter = threading.Thread(target=lambda: result.append(_outcome(fss, ours)), daemon=True)
    t0 = time.monotonic()
    waiter.start()
    waiter.join(5.0)
    assert not waiter.is_alive(), "the harness hung waiting for a test process"
    assert result == ["SandboxFailure: no test process from the program's monitor"]
    assert 0.25 < time.monotonic() - t0 < 3.0
    a, b = socket.socketpair()
    socket.send_fds(theirs, [b"R"], [a.fileno(), b.fileno()])
    proc, pidfd = fss.ForkServerSession._next_process(fss._Monitor(ours))
    assert os.path.sameopenfile(proc.fileno(), a.fileno()) and os.path.sameopenfile(pidfd, b.fileno())
    proc.close()
    os.close(pidfd)
    for sock in (a, b, ours, theirs):
        sock.close()


def _outcome(fss, chan) -> str:
    try:
        fss.ForkServerSession._next_process(fss._Monitor(chan))
    except fss.SandboxFailure as exc:
        return f"SandboxFailure: {exc}"
    return "a process"
