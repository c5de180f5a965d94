# Runs INSIDE the bubblewrap sandbox as ``python3 -s -c <this file's text> <ctrl_fd> <run_uid>``.
#
# This file is never imported by the harness: it is read as text and handed to the sandboxed interpreter, which
# cannot see the repository. It must only use the standard library.
#
# Protocol on the control socket (AF_UNIX, SOCK_SEQPACKET, one JSON object per message):
#   server -> harness  {"ready": true}                         once, after start-up
#   harness -> server  {"cpu":..,"wall":..,"mem":..,...}       a run request, with 5 fds attached by SCM_RIGHTS:
#                                                               [source memfd, stdin read end, stdout write end,
#                                                                stderr write end, the run's own channel]
# On the run's own channel (a fresh socketpair per run, so the server never reads a message meant for a run):
#   harness -> monitor b"K"                                    stop the run now (output cap reached)
#   monitor -> harness {"wait_status":..,"cpu":..,...}         the run's result (exactly one per request)
#
# Process tree per run (all forks, no exec):
#   server: unshare(CLONE_NEWPID) (affects its next child only), fork, setns() back to its own PID namespace
#   --fork-->  C2: pid 1 of the run's new PID namespace; unshare(NS|IPC) and a fresh /proc. C2 is forked *ahead*
#              of its request (while the previous run is still going) and waits for it on its own socketpair;
#              then: fresh tmpfs on /tmp and /dev/shm, forks the program, monitors its CPU and wall time, reports,
#              exits
#   C2  --fork-->  C3: pid 2, the program: fds 0/1/2 = the harness's pipes, rlimits, unprivileged uid, then
#                  returns to the top level of this script and runs the program like ``python3 -c``.
# When C2 exits every process left in the run's PID namespace is killed by the kernel.
import atexit
import builtins
import ctypes
import gc
import json
import os
import resource
import select
import signal
import socket
import struct
import sys
import time
import types

for _name in ("math", "collections", "itertools", "heapq", "bisect", "functools", "re", "string", "decimal",
              "fractions", "typing", "copy", "random", "array", "operator", "statistics", "io", "traceback"):
    try:
        __import__(_name)
    except Exception:  # noqa: BLE001 - warm-up only
        pass

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
NCPU = os.cpu_count() or 1

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_CTRL = socket.socket(fileno=int(sys.argv[1]))
_RUN_UID = int(sys.argv[2])
os.environ.pop("PWD", None)  # bwrap --chdir sets it; a fresh interpreter under the harness gets exactly PROGRAM_ENV


def _check(rc, what):
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def _mount(src, target, fstype, flags, data):
    _check(_libc.mount(src, target, fstype, flags, data), "mount " + target.decode())


def _send(obj, chan=None):
    (chan or _CTRL).send(json.dumps(obj).encode())


def _c3_setup(req, fds, st_w):
    """The program's process: wire fds, limits, drop privileges. Returns (source bytes, status fd)."""
    src_fd, in_fd, out_fd, err_fd = fds[:4]
    os.setsid()
    os.dup2(in_fd, 0)
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    chunks = []
    offset = 0
    while True:
        chunk = os.pread(src_fd, 1 << 20, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    os.closerange(3, st_w)
    os.closerange(st_w + 1, 1 << 16)
    cpu_rl = int(req["cpu_rlimit"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_rl, cpu_rl))
    resource.setrlimit(resource.RLIMIT_AS, (req["mem"], req["mem"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (req["fsize"], req["fsize"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (req["nofile"], req["nofile"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (req["nproc"], req["nproc"]))
    os.setgroups([])
    os.setgid(_RUN_UID)
    os.setuid(_RUN_UID)
    os.chdir("/tmp")
    return b"".join(chunks), st_w


def _c2(req, fds):
    """pid 1 of the run's PID namespace: start the program, enforce CPU/wall limits, report, exit (kills the rest)."""
    opts = ("size=%d,nr_inodes=4096,mode=1777" % int(req["tmp_bytes"])).encode()
    _mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, opts)
    if os.path.isdir("/dev/shm"):
        _mount(b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV, opts)
    st_r, st_w = os.pipe()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(st_r)
            return _c3_setup(req, fds, st_w)
        except BaseException as exc:  # noqa: BLE001
            try:
                os.write(st_w, b"H" + repr(exc).encode()[:200])
            finally:
                os._exit(125)
    os.close(st_w)
    for fd in fds[:4]:
        os.close(fd)
    chan = socket.socket(fileno=fds[4])
    _CTRL.close()
    pidfd = os.pidfd_open(pid)
    clk = ((~pid) << 3) | 2  # CPUCLOCK_SCHED of process `pid` (the kernel's MAKE_PROCESS_CPUCLOCK)
    cpu_limit = float(req["cpu"])
    deadline = t0 + float(req["wall"])
    startup = 0.0
    status_buf = b""
    killed = None
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    poller.register(st_r, select.POLLIN)
    poller.register(chan.fileno(), select.POLLIN)
    exited = False
    while not exited:
        try:
            used = time.clock_gettime(clk) - startup
        except OSError:
            used = 0.0
        now = time.monotonic()
        if used > cpu_limit:
            killed = "cpu"
        elif now >= deadline:
            killed = "wall"
        if killed:
            os.kill(pid, signal.SIGKILL)
            break
        timeout = min(deadline - now, max((cpu_limit - used) / NCPU, 0.002))
        for fd, _ev in poller.poll(max(1, int(timeout * 1000) + 1)):
            if fd == pidfd:
                exited = True
            elif fd == st_r:
                data = os.read(st_r, 4096)
                if not data:
                    poller.unregister(st_r)
                status_buf += data
                if status_buf[:1] == b"S" and len(status_buf) >= 9 and not startup:
                    startup = struct.unpack("<d", status_buf[1:9])[0]
            else:
                msg = chan.recv(64)
                killed = "output" if msg == b"K" else "harness"
                os.kill(pid, signal.SIGKILL)
                exited = True
    _, wstatus, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    while True:  # C3 is gone; its status fd is closed (the program never inherits it)
        data = os.read(st_r, 4096)
        if not data:
            break
        status_buf += data
    try:
        os.kill(-1, signal.SIGKILL)  # pid 1 of the namespace: everything else in it
    except ProcessLookupError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    if status_buf[:1] == b"S" and len(status_buf) >= 9:
        startup = struct.unpack("<d", status_buf[1:9])[0]
    harness_error = status_buf[1:].decode("utf-8", "replace") if status_buf[:1] == b"H" else None
    _send({
        "wait_status": wstatus,
        "cpu": ru.ru_utime + ru.ru_stime,
        "startup": startup,
        "maxrss_kb": ru.ru_maxrss,
        "wall": wall,
        "killed": killed,
        "compile_error": status_buf[9:10] == b"C",
        "started": status_buf[:1] == b"S",  # the program's process reached the point right before compile()
        "harness_error": harness_error,
    }, chan)
    os._exit(0)


def _spawn_monitor(own_pid_ns):
    """Fork the next run's pid 1 ahead of its request. In the server returns ("monitor", pid, socket to hand it the
    request); in the program's process (much later) returns ("program", (source, status fd))."""
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
    try:
        ours.close()
        os.close(own_pid_ns)
        _CTRL.close()
        _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare")
        _mount(None, b"/", None, MS_REC | MS_PRIVATE, None)
        _mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        msg, fds, _flags, _addr = socket.recv_fds(theirs, 1 << 16, 8)
        theirs.close()
        if not msg or len(fds) != 5:
            os._exit(0)  # the server is gone (sandbox shutting down)
        return "program", _c2(json.loads(msg), fds)
    except BaseException as exc:  # noqa: BLE001 - anything here is a harness failure
        try:
            if len(fds) == 5:
                _send({"harness_error": "setup: %r" % (exc,)}, socket.socket(fileno=fds[4]))
        finally:
            os._exit(126)


def _refuse(fds, why):
    chan = socket.socket(fileno=fds[4])
    try:
        _send({"harness_error": why}, chan)
    except OSError:
        pass
    chan.close()
    for fd in fds[:4]:
        os.close(fd)


def _serve():
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
    gc.collect()
    gc.freeze()
    _send({"ready": True, "python": sys.version.split()[0]})
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
        if len(fds) != 5:  # not a run request
            for fd in fds:
                os.close(fd)
            continue
        if pending is None:
            _refuse(fds, "cannot prepare the run's namespaces: " + spawn_error)
            continue
        _pid, sock = pending
        pending = None
        try:
            socket.send_fds(sock, [msg], fds)
        except OSError as exc:
            _refuse(fds, "handing the run to its monitor: %r" % (exc,))
        else:
            for fd in fds:
                os.close(fd)
        finally:
            sock.close()
        # finished monitors are reaped later: namespace teardown happens after the result was sent
        _reap()


def _reap():
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


_src, _st = _serve()
del _serve, _c2, _c3_setup, _CTRL, _libc
# ---- from here on: the program's process, exactly as _bootstrap_main.py ----
_start = time.process_time()
os.write(_st, b"S" + struct.pack("<d", _start))
try:
    _code = compile(_src, "solution.py", "exec")
except (SyntaxError, ValueError):
    os.write(_st, b"C")
    os.close(_st)
    raise
os.close(_st)
# ---- program tail: identical in _forkserver_main.py and _bootstrap_main.py (a test checks) ----
# The interpreter's own shutdown is replaced by its observable steps, because in a forked child CPython's full
# finalization touches (copy-on-write) most of the fork server's heap: ~3 ms of CPU charged to every program.
# Kept: non-daemon threads joined, atexit callbacks, the program's globals released (so unflushed file objects
# flush), sys.stdout/sys.stderr flushed (a failing flush -> status 120), SystemExit -> status/message, an uncaught
# exception -> traceback and status 1. Not kept: teardown of other modules and a final garbage collection.
def _exit_status(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF if -(1 << 63) <= code < (1 << 63) else 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except Exception:  # noqa: BLE001
        pass
    return 1


def _finish(status):
    try:
        if "threading" in sys.modules:
            sys.modules["threading"]._shutdown()
    except BaseException:  # noqa: BLE001
        pass
    atexit._run_exitfuncs()
    names = _main.__dict__
    for key in [k for k in names if k.startswith("_") and k != "__builtins__"] + [k for k in names
                                                                                if not k.startswith("_")]:
        names.pop(key, None)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except Exception as exc:  # noqa: BLE001 - reported like CPython's flush_std_files()
            status = 120
            if stream is sys.stdout:
                try:
                    sys.stderr.write("Exception ignored in: %r\n%s: %s\n" % (stream, type(exc).__name__, exc))
                    sys.stderr.flush()
                except Exception:  # noqa: BLE001
                    pass
    return status


_main = types.ModuleType("__main__")
_main.__builtins__ = builtins
sys.modules["__main__"] = _main
sys.argv = ["solution.py"]
del _src, _st, _start
try:
    exec(_code, _main.__dict__)
    _status = 0
except SystemExit as _exc:
    _status = _exit_status(_exc)
    del _exc
except BaseException:  # noqa: BLE001 - exactly what the interpreter would print
    sys.excepthook(*sys.exc_info())
    _status = 1
os._exit(_finish(_status))
