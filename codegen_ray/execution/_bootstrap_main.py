# Runs as ``python3 -s -c <this file's text> <source_fd> <status_fd>`` for SubprocessExecutor.
# Never imported by the harness. Mirrors the tail of _forkserver_main.py exactly, so that both executors run a
# program the same way: source from an fd, compile (SyntaxError -> status "C"), program CPU time measured from
# just before compile (status "S" + start time), the status fd closed before the program runs.
import builtins
import os
import struct
import sys
import time
import types

_fd, _st = int(sys.argv[1]), int(sys.argv[2])
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
sys.modules["__main__"] = _main
sys.argv = ["solution.py"]
del _src, _st, _start
exec(_code, _main.__dict__)
