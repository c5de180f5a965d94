# Runs INSIDE the bubblewrap sandbox as ``python3 -s -c <this file's text> <ctrl_fd> <run_uid>``.
#
# This file is never imported by the harness: it is read as text and handed to the sandboxed interpreter, which
# cannot see the repository. It must only use the standard library.
#
# Protocol. The control socket (AF_UNIX, SOCK_SEQPACKET) carries one JSON object per message:
#   server -> harness  {"ready": true}                              once, after start-up
#   harness -> server  {"prelude": .., "cpu_rlimit": .., ...}       a program, with 2 fds attached (SCM_RIGHTS):
#                                                                    [memfd holding Program.body(), the session channel]
# The session channel (a socketpair per program) between the harness and the program's monitor:
#   monitor -> harness b"R" + fds [child socket, child pidfd]       a test process is ready (forked, compiled);
#                                                                    the first one also carries the monitor's pidfd
#   harness -> child   b"T" + fds [stdin r, stdout w, stderr w]    (on the child socket) run the test now
#   child -> harness   b"S" + its CPU time at the start (struct "<d") [+ b"C" if the source did not compile], or
#                      b"H" + text if setting up the process failed (a harness error); then it closes the socket
#   harness -> monitor b"N"                                         prepare a further test process (after this
#                                                                    monitor's D; the first one comes unasked)
#   monitor -> harness b"D" + wait status (int) + struct rusage     the test process ended; everything else it left
#                                                                    in the namespaces is killed and reaped
#   monitor -> harness b"E" + text                                  the monitor failed (a harness error)
#   the harness closes the channel                                  the session is over: the monitor exits (and
#                                                                    with it every process of the session; the
#                                                                    harness waits for that on the monitor's pidfd)
#
# Process tree (all forks, no exec):
#   server: one per sandbox; leaves the sandbox's network namespace for a fresh one whose loopback is down (no
#     connection can be made, so no socket state outlives a process). Forks the next program's monitor ahead.
#   --fork--> monitor: pid 1 of a new PID namespace, with fresh mount and IPC namespaces and a /proc mounted
#     hidepid=1 (programs see that pid 1 exists, not what it does). One per program, or two whose tests alternate
#     (the harness's prepare-ahead: each prepares its next test process while the other's test runs; they share
#     no namespace a program can reach). For each test: a fresh tmpfs on /tmp and /dev/shm (one left exactly as it
#     was mounted -- no inode, the root's metadata and xattrs unchanged -- is kept: a program cannot tell it from a
#     new one, and an unmount costs an RCU grace period), a fresh IPC namespace, pid numbering reset
#     (ns_last_pid), then it forks the test process -- ahead of the test -- and waits for it. When it ends:
#     kill(-1), reap everything, report, and prepare the next one when asked (N).
#     The monitor only waits, kills and reaps: CPU and wall limits are watched by the harness through the pidfd.
#     It handles a test's exit status and rusage only in fixed ctypes buffers, zeroed after each report, so the
#     next test process (a fork of it) inherits nothing of an earlier test, not even in freed memory.
#     The monitor compiles the program once; every test process inherits the code object.
#   --fork--> test process: pid 2: rlimits, waits for its test's fds, takes an unprivileged uid (only then: while it
#     waits, another test of the run uid may still run under the other monitor, and RLIMIT_NPROC counts per uid),
#     then runs the program like ``python3 -c`` in a copy of the prelude's namespace (executed once per sandbox, see
#     codegen_ray.execution.program). Everything in the sandbox runs under a seccomp filter that refuses the
#     kernel-keyring calls (a keyring is per uid and outlives every process: a channel between runs otherwise).
import atexit
import builtins
import ctypes
import errno
import gc
import json
import os
import resource
import signal
import socket
import struct
import sys
import time
import types

for _name in ("math", "collections", "itertools", "heapq", "bisect", "functools", "re", "string", "decimal",
              "fractions", "typing", "copy", "random", "array", "operator", "statistics", "io", "traceback",
              "datetime", "json"):
    try:
        __import__(_name)
    except Exception:  # noqa: BLE001 - warm-up only
        pass

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x08000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
_libc.waitpid.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
_libc.waitpid.restype = None  # the reaped pid is not wanted: a test chooses it (see _reap_all)
_libc.kill, _libc.unshare, _libc.setns  # resolved once here, not in every monitor


class _Rusage(ctypes.Structure):
    _fields_ = [("v", ctypes.c_long * 18)]  # struct rusage on 64-bit Linux: 2 timevals + 14 longs


_libc.wait4.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.c_int, ctypes.POINTER(_Rusage)]

_CTRL = socket.socket(fileno=int(sys.argv[1]))
_RUN_UID = int(sys.argv[2])
sys.argv = ["solution.py"]  # before any prelude runs: `from sys import *` binds this very list
os.environ.pop("PWD", None)  # bwrap --chdir sets it; a fresh interpreter under the harness gets exactly PROGRAM_ENV
_PRELUDES = {}  # prelude text -> (its __main__ module, the recursion limit it set)


def _check(rc, what):
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def _mount(src, target, fstype, flags, data):
    _check(_libc.mount(src, target, fstype, flags, data), "mount " + target.decode())


def _namespace(prelude):
    """(the ``__main__`` module the prelude leaves, its recursion limit, the module's size and last name), built once
    here and reused by every fork (copy on write). The recursion limit is set in each program's process, not here."""
    hit = _PRELUDES.get(prelude)
    if hit is None:
        before = sys.getrecursionlimit()
        module = types.ModuleType("__main__")
        module.__builtins__ = builtins
        exec(compile(prelude, "<prelude>", "exec"), module.__dict__)
        names = module.__dict__
        hit = _PRELUDES[prelude] = (module, sys.getrecursionlimit(), len(names), next(reversed(names)))
        sys.setrecursionlimit(before)
        gc.freeze()
    return hit


def _seccomp_filter():
    """A classic-BPF seccomp program: add_key, request_key and keyctl fail with ENOSYS (a kernel keyring is
    per uid and outlives every process: a channel between runs otherwise); other ABIs are refused outright."""
    table = {"x86_64": (0xC000003E, (248, 249, 250)), "aarch64": (0xC00000B7, (217, 218, 219))}
    arch, numbers = table.get(os.uname().machine, (None, ()))
    if arch is None:
        return None
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    kill_process, allow, fail = 0x80000000, 0x7FFF0000, 0x00050000 | errno.ENOSYS
    checks = [(jge, 0x40000000)] if arch == 0xC000003E else []  # x32 system calls
    checks += [(jeq, nr) for nr in numbers]
    prog = [(ld, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, kill_process), (ld, 0, 0, 0)]
    for i, (op, k) in enumerate(checks):
        prog.append((op, len(checks) - i, 0, k))  # true: jump to the `fail` return
    prog += [(ret, 0, 0, allow), (ret, 0, 0, fail)]
    code = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(code, len(code))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    return SockFprog(len(prog), ctypes.addressof(buf)), buf


_FILTER = _seccomp_filter()


def _send(chan, text):
    try:
        chan.send(b"E" + text.encode("utf-8", "replace")[:2000])
    except OSError:
        pass


def _compile(body):
    """Compile the program once, in the monitor: (code or None, exc_info of a failure or None, SyntaxError?,
    warnings). The harness's own __future__ split already runs CPython's parser on every candidate; the
    warnings are recorded here and shown by each test process, where a fresh interpreter would print them."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        try:
            return compile(body, "solution.py", "exec"), None, False, caught
        except (SyntaxError, ValueError):
            return None, sys.exc_info(), True, caught
        except BaseException:  # noqa: BLE001 - MemoryError, RecursionError: reported as the program's own
            return None, sys.exc_info(), False, caught


def _child(req, sock, ns, compiled):
    """The test process, forked ahead of its test. Returns (code, __main__ module, its size and last name before
    the program runs) once the test starts."""
    try:
        os.setsid()
        keep = sock.fileno()
        os.closerange(3, keep)
        os.closerange(keep + 1, 1 << 16)
        for res, key in ((resource.RLIMIT_CPU, "cpu_rlimit"), (resource.RLIMIT_AS, "mem"),
                         (resource.RLIMIT_FSIZE, "fsize"), (resource.RLIMIT_NOFILE, "nofile"),
                         (resource.RLIMIT_NPROC, "nproc")):
            resource.setrlimit(res, (int(req[key]), int(req[key])))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.chdir("/tmp")
        harness_problem = None
    except BaseException as exc:  # noqa: BLE001
        harness_problem = "test process setup: %r" % (exc,)
    try:
        msg, fds, _flags, _addr = socket.recv_fds(sock, 16, 3)
    except OSError:
        os._exit(0)
    if harness_problem is None:
        try:  # only now: while it waited, the previous test (the other monitor's) could still run as the run uid
            os.setgroups([])
            os.setgid(_RUN_UID)
            os.setuid(_RUN_UID)
        except BaseException as exc:  # noqa: BLE001
            harness_problem = "test process setup: %r" % (exc,)
    start = time.process_time()  # the program's CPU time counts from here
    if not msg or len(fds) != 3:
        os._exit(0)  # the session ended before this test
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    if harness_problem is not None:
        sock.send(b"H" + harness_problem.encode("utf-8", "replace")[:300])
        os._exit(125)
    code, error, compile_failed, caught = compiled
    sock.send(b"S" + struct.pack("<d", start) + (b"C" if compile_failed else b""))
    sock.close()  # the program never has it
    if caught:
        import warnings

        for w in caught:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)
    if error is not None:  # exactly what an uncaught exception at the top level prints
        sys.excepthook(*error)
        sys.stderr.flush()
        os._exit(1)
    if ns is None:
        main = types.ModuleType("__main__")
        main.__builtins__ = builtins
        return code, main, len(main.__dict__), next(reversed(main.__dict__))
    sys.setrecursionlimit(ns[1])
    return code, ns[0], ns[2], ns[3]


_HAS_DEV_SHM = os.path.isdir("/dev/shm")


_TMPFS = (b"/tmp", b"/dev/shm") if _HAS_DEV_SHM else (b"/tmp",)


def _tmpfs_state(target):
    """Everything a program can observe of an empty tmpfs: its root's metadata, its extended attributes, its free
    blocks and inodes (no other inode exists when they are at their initial values) and its mount flags. When
    this equals the state right after mounting, the next test could not tell it from a fresh one."""
    st, vfs = os.stat(target), os.statvfs(target)
    return (st.st_ino, st.st_mode, st.st_uid, st.st_gid, st.st_nlink, st.st_size, st.st_atime_ns, st.st_mtime_ns,
            st.st_ctime_ns, tuple(os.listxattr(target)), vfs.f_bfree, vfs.f_ffree, vfs.f_flag)


def _fresh_tmp(opts, fresh):
    """A fresh tmpfs on /tmp and /dev/shm for the next test. ``fresh`` maps each target to its state right after
    it was mounted; a tmpfs still in that state is kept (an unmount waits for an RCU grace period), any other is
    unmounted and replaced."""
    for target in _TMPFS:
        state = fresh.get(target)
        if state is not None:
            if _tmpfs_state(target) == state:
                continue
            _check(_libc.umount2(target, MNT_DETACH), "umount " + target.decode())
        _mount(b"tmpfs", target, b"tmpfs", MS_NOSUID | MS_NODEV, opts)
        fresh[target] = _tmpfs_state(target)


def _reap_all():
    """Kill and reap every process left in the namespace (pid 1 survives kill(-1))."""
    while True:
        _libc.kill(-1, signal.SIGKILL)
        ctypes.set_errno(0)
        _libc.waitpid(-1, None, 0)
        err = ctypes.get_errno()
        if err == errno.ECHILD:
            return


def _monitor(req, fds):
    """pid 1 of one program's namespaces: per test a fresh test process, tmpfs, IPC namespace and pid numbering.
    Prepares its first test process at once, each further one when the harness asks (N)."""
    src_fd, chan = fds[0], socket.socket(fileno=fds[1])
    try:
        chunks, offset = [], 0
        while True:
            chunk = os.pread(src_fd, 1 << 20, offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
        os.close(src_fd)
        body = b"".join(chunks)
        ns = _namespace(req["prelude"]) if req["prelude"] else None
        compiled = _compile(body)
        opts = ("size=%d,nr_inodes=4096,mode=1777" % int(req["tmp_bytes"])).encode()
        fresh = {}
        _fresh_tmp(opts, fresh)
        last_pid = os.open("/proc/sys/kernel/ns_last_pid", os.O_WRONLY)
        gc.freeze()  # a test process's collections never walk (and copy-on-write) what this process made
    except BaseException as exc:  # noqa: BLE001
        _send(chan, "program setup: %r" % (exc,))
        os._exit(0)
    status, usage = ctypes.c_int(0), _Rusage()
    monitor_fd = os.pidfd_open(os.getpid())
    first = True
    while True:
        try:
            if not first:
                _check(_libc.unshare(CLONE_NEWIPC), "unshare ipc")
                _fresh_tmp(opts, fresh)
            first = False
            os.pwrite(last_pid, b"1", 0)  # the test process is pid 2, whatever the earlier tests forked
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            pid = os.fork()
        except BaseException as exc:  # noqa: BLE001
            _send(chan, "preparing a test: %r" % (exc,))
            os._exit(0)
        if pid == 0:
            ours.close()
            chan.close()
            os.close(last_pid)
            if monitor_fd >= 0:
                os.close(monitor_fd)
            return _child(req, theirs, ns, compiled)
        theirs.close()
        pidfd = os.pidfd_open(pid)
        extra = [] if monitor_fd < 0 else [monitor_fd]  # the first time: our own pidfd (see the protocol)
        try:
            socket.send_fds(chan, [b"R"], [ours.fileno(), pidfd, *extra])
        except OSError:
            os._exit(0)  # the harness ended the session
        finally:
            ours.close()
            os.close(pidfd)
            if monitor_fd >= 0:
                os.close(monitor_fd)
                monitor_fd = -1
        while _libc.wait4(pid, ctypes.byref(status), 0, ctypes.byref(usage)) < 0:
            if ctypes.get_errno() != errno.EINTR:
                break
        _reap_all()
        try:
            chan.sendmsg([b"D", status, usage])
        except OSError:
            os._exit(0)
        ctypes.memset(ctypes.addressof(status), 0, ctypes.sizeof(status))
        ctypes.memset(ctypes.addressof(usage), 0, ctypes.sizeof(usage))
        try:  # N: the program has a further test for this monitor; the end of the session: nothing more
            if chan.recv(16) != b"N":
                os._exit(0)
        except OSError:
            os._exit(0)


def _spawn_monitor(own_pid_ns):
    """Fork the next program's monitor ahead of its request. In the server returns ("monitor", pid, socket to hand
    it the request); in a test process (much later) returns ("program", what _child returns)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = -1
    try:
        _check(_libc.unshare(CLONE_NEWPID), "unshare")
        try:
            pid = os.fork()
        finally:
            if pid != 0:  # the server (or a failed fork): children from now on in its own PID namespace again
                _check(_libc.setns(own_pid_ns, CLONE_NEWPID), "setns")
    except BaseException:
        ours.close()
        theirs.close()
        raise
    if pid != 0:
        theirs.close()
        return "monitor", pid, ours
    fds = []
    problem = None
    try:
        ours.close()
        os.close(own_pid_ns)
        _CTRL.close()
        _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare")
        _mount(None, b"/", None, MS_REC | MS_PRIVATE, None)
        _mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"hidepid=1")
        os.chdir("/")
    except BaseException as exc:  # noqa: BLE001 - reported to the request this monitor gets
        problem = "monitor setup: %r" % (exc,)
    try:
        msg, fds, _flags, _addr = socket.recv_fds(theirs, 1 << 16, 8)
    except OSError:
        os._exit(0)
    theirs.close()
    if not msg or len(fds) != 2:
        os._exit(0)  # the server is gone (sandbox shutting down)
    if problem is not None:
        _send(socket.socket(fileno=fds[1]), problem)
        os._exit(0)
    return "program", _monitor(json.loads(msg), fds)


def _refuse(fds, why):
    chan = socket.socket(fileno=fds[1])
    _send(chan, why)
    chan.close()
    os.close(fds[0])


def _serve():
    _check(_libc.unshare(CLONE_NEWNET), "unshare net")
    if _FILTER is not None:  # inherited by every monitor and test process
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0), "no_new_privs")
        _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(_FILTER[0]), 0, 0), "seccomp")
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
    gc.collect()
    gc.freeze()
    _CTRL.send(json.dumps({"ready": True, "python": sys.version.split()[0]}).encode())
    pending = None
    spawn_error = ""
    while True:
        if pending is None:
            try:
                spawned = _spawn_monitor(own_pid_ns)
            except OSError as exc:
                spawned, spawn_error = None, repr(exc)
            if spawned is not None:
                if spawned[0] == "program":
                    return spawned[1]
                pending = spawned[1:]
        try:
            msg, fds, _flags, _addr = socket.recv_fds(_CTRL, 1 << 16, 8)
        except OSError:
            os._exit(0)
        if not msg:
            os._exit(0)  # the harness is gone
        _reap()
        if len(fds) != 2:  # not a program request
            for fd in fds:
                os.close(fd)
            continue
        if pending is None:
            _refuse(fds, "cannot prepare the program's namespaces: " + spawn_error)
            continue
        _pid, sock = pending
        pending = None
        try:
            socket.send_fds(sock, [msg], fds)
        except OSError as exc:
            _refuse(fds, "handing the program to its monitor: %r" % (exc,))
        else:
            for fd in fds:
                os.close(fd)
        finally:
            sock.close()
        try:  # the next monitors are forked with this prelude's namespace already in memory
            prelude = json.loads(msg).get("prelude")
            if prelude:
                _namespace(prelude)
        except Exception:  # noqa: BLE001 - a monitor reports the same failure to its harness
            pass
        _reap()


def _reap():
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


_code, _main, _base_len, _base_last = _serve()
del _serve, _spawn_monitor, _monitor, _child, _CTRL, _libc  # (not _PRELUDES: freeing it would touch every value)
# ---- the program tail (_program_tail.py) follows: common.script_text appends it ----
