# The end of both sandbox scripts: ``common.script_text`` appends this file to _forkserver_main.py and to
# _bootstrap_main.py, so both executors run a program the same way. Never imported: it runs in the script's
# namespace, where the head has bound _code (the compiled program), _main (its __main__ module), _base_len and
# _base_last, and imported atexit, os and sys.
# The interpreter's own shutdown is replaced by its observable steps, because in a forked child CPython's full
# finalization touches (copy-on-write) most of the fork server's heap: ~3 ms of CPU charged to every program.
# Kept: non-daemon threads joined, atexit callbacks, the program's globals released (so unflushed file objects
# flush), sys.stdout/sys.stderr flushed (a failing flush -> status 120), SystemExit -> status/message, an uncaught
# exception -> traceback and status 1. Not kept: teardown of other modules and a final garbage collection.
# The globals released are those the program bound after the namespace's first _base_len entries (which end
# with _base_last): a namespace built by a prelude keeps the prelude's own entries, even where the program rebound
# one (releasing them would touch every object they name: ~200 copy-on-write faults per test). If the program
# deleted one of those entries, every name is released.
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
    newest_first = []
    while len(names) > _base_len:
        newest_first.append(names.popitem())
    bound = [(k, names.pop(k)) for k in list(names) if k != "__builtins__"] if (
        names and next(reversed(names)) != _base_last) else []
    bound += reversed(newest_first)
    del newest_first
    for underscore in (True, False):  # CPython's order: names starting with "_" first
        for i in range(len(bound)):
            if bound[i][0].startswith("_") is underscore and bound[i][0] != "__builtins__":
                bound[i] = (bound[i][0], None)
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


sys.modules["__main__"] = _main
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
