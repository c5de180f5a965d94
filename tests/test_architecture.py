"""The architecture's rules that import-linter cannot check (``lint-imports`` checks the layers; see setup.cfg and
ARCHITECTURE.md): no module uses another module's underscore names, no module is over 500 lines unless it is a
pure data table that says so in its first line, every package says what it may import, and every top-level module
of the package has a place in the layer contract.

``codegen_ray/execution/_forkserver_main.py``, ``_bootstrap_main.py`` and ``_program_tail.py`` are sandbox scripts
run as separate processes (read as text, never imported); they import only the standard library, so the scan below
covers them too without finding anything.
"""

from __future__ import annotations

import ast
import configparser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "codegen_ray"
MAX_LINES = 500
DATA_TABLE_MARK = "pure data table"


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "tiny_model" not in p.relative_to(PACKAGE).parts[:-1])


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` in ``module`` names."""
    if not node.level:
        return node.module or ""
    is_package = False
    base = module.split(".")
    path = REPO.joinpath(*base)
    if path.is_dir():
        is_package = True
    anchor = base if is_package else base[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join(anchor + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(path: Path) -> list[str]:
    """``module:line name`` for every underscore name this module takes from another codegen_ray module: imported
    (``from codegen_ray.x import _y``), a private module imported (``codegen_ray.x._y``), or an attribute of an
    imported codegen_ray module (``x._y`` after ``from codegen_ray import x``)."""
    module = _dotted(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    aliases: dict[str, str] = {}  # local name -> codegen_ray module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            if not source.startswith("codegen_ray"):
                continue
            if any(_private(part) for part in source.split(".")) and source != module:
                found.append(f"{module}:{node.lineno} imports private module {source}")
            for alias in node.names:
                target = f"{source}.{alias.name}"
                if _private(alias.name) and source != module:
                    found.append(f"{module}:{node.lineno} imports {target}")
                if (REPO.joinpath(*target.split(".")).is_dir()
                        or REPO.joinpath(*target.split(".")).with_suffix(".py").is_file()):
                    aliases[alias.asname or alias.name] = target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if not alias.name.startswith("codegen_ray"):
                    continue
                if any(_private(part) for part in alias.name.split(".")):
                    found.append(f"{module}:{node.lineno} imports private module {alias.name}")
                aliases[alias.asname or alias.name.split(".")[0]] = alias.asname and alias.name or "codegen_ray"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name):
            target = aliases.get(node.value.id)
            if target is not None and target != module:
                found.append(f"{module}:{node.lineno} uses {target}.{node.attr}")
    return found


def test_no_module_uses_another_modules_underscore_names():
    found = [use for path in _modules() for use in private_uses(path)]
    assert found == []


def test_the_scan_finds_private_uses(tmp_path, monkeypatch):
    """The scan above is not vacuous: each form it forbids is found in a module written to break the rule."""
    pkg = tmp_path / "codegen_ray"
    (pkg / "sub").mkdir(parents=True)
    for f in ("__init__.py", "sub/__init__.py", "sub/a.py", "sub/_hidden.py"):
        (pkg / f).write_text("")
    bad = pkg / "sub" / "b.py"
    bad.write_text("from .a import _helper\nfrom . import _hidden\nfrom codegen_ray.sub import a\n"
                   "import codegen_ray.sub.a as mod\n\ndef f():\n    return a._x, mod._y, a.public\n")
    good = pkg / "sub" / "c.py"
    good.write_text("from .a import helper\n_own = 1\n\ndef _f():\n    return _own\n")
    monkeypatch.setattr(__import__(__name__), "REPO", tmp_path)
    assert private_uses(bad) == [
        "codegen_ray.sub.b:1 imports codegen_ray.sub.a._helper",
        "codegen_ray.sub.b:2 imports codegen_ray.sub._hidden",
        "codegen_ray.sub.b:7 uses codegen_ray.sub.a._x",
        "codegen_ray.sub.b:7 uses codegen_ray.sub.a._y",
    ]
    assert private_uses(good) == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_500_lines_unless_declared_data(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) > MAX_LINES:
        assert DATA_TABLE_MARK in lines[0], (
            f"{path.relative_to(REPO)} has {len(lines)} lines (> {MAX_LINES}); split it, or, if it is a pure data "
            f"table, say so in its first line")


def test_every_package_says_what_it_does_and_may_import():
    for init in sorted(PACKAGE.rglob("__init__.py")):
        if "tiny_model" in init.parts:
            continue
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert doc, f"{init.relative_to(REPO)} has no docstring"
        assert "import" in doc, f"{init.relative_to(REPO)}: its docstring does not say what the package may import"


def _contracts() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    return cfg


def test_every_top_level_module_has_a_layer_and_no_import_is_ignored():
    cfg = _contracts()
    sections = [s for s in cfg.sections() if s.startswith("importlinter:contract:")]
    assert sections and all("ignore_imports" not in cfg[s] for s in sections)
    layers = cfg["importlinter:contract:layers"]["layers"]
    named = {name.strip() for line in layers.splitlines() for name in line.split("|") if name.strip()}
    top = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"} | {
        p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert top - named == set(), "top-level modules outside the layer contract (setup.cfg)"
    assert named - top == set(), "the layer contract names modules that do not exist"
