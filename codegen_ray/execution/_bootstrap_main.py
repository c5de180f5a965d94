# Runs as ``python3 -s -c <this file's text> <source_fd> <status_fd> <cpu> <as> <fsize> <nofile> <nproc>`` for
# SubprocessExecutor (rlimits are set here, before the program is even read, instead of in a preexec_fn: no
# Python code runs between fork and exec in a possibly multi-threaded harness).
# Never imported by the harness. Ends, like _forkserver_main.py, with _program_tail.py (appended by
# common.script_text), so that both executors run a program the same way: source from an fd, compile (SyntaxError -> status "C"), program CPU time measured from
# just before compile (status "S" + start time), the status fd closed before the program runs.
import atexit
import builtins
import os
import resource
import struct
import sys
import time
import types

_fd, _st = int(sys.argv[1]), int(sys.argv[2])
for _res, _value in zip((resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_FSIZE, resource.RLIMIT_NOFILE,
                         resource.RLIMIT_NPROC), sys.argv[3:8]):
    resource.setrlimit(_res, (int(_value), int(_value)))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
del _res, _value
_chunks = []
while True:
    _chunk = os.read(_fd, 1 << 20)
    if not _chunk:
        break
    _chunks.append(_chunk)
os.close(_fd)
_src = b"".join(_chunks)
del _fd, _chunks, _chunk
_start = time.process_time()
os.write(_st, b"S" + struct.pack("<d", _start))
try:
    _code = compile(_src, "solution.py", "exec")
except (SyntaxError, ValueError):
    os.write(_st, b"C")
    os.close(_st)
    raise
os.close(_st)
_main = types.ModuleType("__main__")
_main.__builtins__ = builtins
_base_len, _base_last = len(_main.__dict__), next(reversed(_main.__dict__))
sys.argv = ["solution.py"]
del _src, _st, _start
# ---- the program tail (_program_tail.py) follows: common.script_text appends it ----
