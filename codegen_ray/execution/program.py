"""A program to run on many inputs: its source and a trusted prelude (the grader's implicit imports).

``Program(source, prelude).text()`` is the one program text it stands for: the source's leading docstring and
``from __future__`` imports (which must stay first), then the prelude, then the rest of the source. Executors run
exactly that text. One that runs many tests of a program may instead execute the prelude once, keep the namespace it
leaves, and compile :meth:`Program.body` -- the text with the prelude's lines blanked, so line numbers in
tracebacks are the same -- in that namespace. That is only equivalent because a prelude is restricted: it imports
modules and may call ``sys.setrecursionlimit``; nothing else.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


def split_future(code: str) -> tuple[str, str]:
    """Split ``code`` into its leading docstring/``from __future__`` block (which must stay first) and the rest."""
    if "__future__" not in code:  # no future import: nothing must stay first (and no need to parse)
        return "", code
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return "", code  # the process reports the compile error
    head_end = 0  # last line (1-based) of the leading docstring / __future__ imports
    has_future = False
    for node in tree.body:
        is_doc = (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                  and isinstance(node.value.value, str) and head_end == 0)
        is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not (is_doc or is_future):
            break
        has_future = has_future or is_future
        head_end = node.end_lineno or node.lineno
    if not has_future:
        return "", code
    lines = code.split("\n")
    return "\n".join(lines[:head_end]) + "\n", "\n".join(lines[head_end:])


@dataclass(frozen=True)
class Program:
    """``source`` run after ``prelude`` in the same ``__main__`` namespace (see the module docstring)."""

    source: str
    prelude: str = ""  # trusted: imports and sys.setrecursionlimit only; whole lines ending in "\n"

    def __post_init__(self) -> None:
        if self.prelude and not self.prelude.endswith("\n"):
            raise ValueError("a prelude is whole lines: it must end with a newline")

    def _parts(self) -> tuple[str, str]:
        return split_future(self.source) if self.prelude else ("", self.source)

    def text(self) -> str:
        """The single program text this stands for (what a fresh interpreter runs)."""
        head, rest = self._parts()
        return head + self.prelude + rest

    def body(self) -> str:
        """:meth:`text` with the prelude's lines left empty: compiled into a namespace the prelude already ran in."""
        head, rest = self._parts()
        return head + "\n" * self.prelude.count("\n") + rest
