"""Errors that mean "the user's input is wrong" (exit status 2), as opposed to bugs (tracebacks)."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user: a config value, a data file, a samples file.

    The CLI prints ``str(err)`` on one line (no traceback unless ``--debug``) and exits with status 2.
    """

    exit_code = 2


class ConfigError(UserError):
    """A config key has a bad value; the message always names the dotted key."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"config error: {key}: {message}")


class DataError(UserError):
    """A data or benchmark file is malformed; the message names the file (and line where there is one)."""

    def __init__(self, path: str, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"data error: {where}: {message}")


class HarnessError(RuntimeError):
    """Infrastructure failed (sandbox, actor, engine). Never scored as a wrong answer."""
