"""Files: atomic writes (readers, and reruns after a crash, see the old file or the new one, never a partial one),
JSONL reading that names the file and line of any bad record, and the sha256 of a file's bytes (what result keys
hash, never a path)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from .errors import DataError


def file_mode() -> int:
    """Mode of a normally created file (0o666 minus the umask); mkstemp's 0o600 would hide results from others."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same directory, fsync, then ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 (hex) of the file's bytes, read in 1 MiB blocks. Raises OSError when it cannot be read."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def iter_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line_number, record)`` for every non-blank line of a JSONL file, gzip-compressed when its name ends in
    ``.gz``; malformed JSON → DataError naming file and line."""
    try:
        f = gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")
    except OSError as err:
        raise DataError(str(path), f"cannot read: {err}") from None
    with f:
        lineno = 0
        while True:
            try:
                raw = f.readline()
            except (OSError, EOFError) as err:  # EOFError: a truncated gzip stream
                raise DataError(str(path), f"cannot read: {getattr(err, 'strerror', None) or err}",
                                lineno + 1) from None
            if not raw:
                break
            lineno += 1
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataError(str(path), f"not valid UTF-8 ({err.reason} at byte {err.start})", lineno) from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(str(path), f"malformed JSON: {err.msg}", lineno) from None
            if not isinstance(record, dict):
                raise DataError(str(path), f"expected a JSON object, got {type(record).__name__}", lineno)
            yield lineno, record
