"""The architecture's import rules (docs/architecture.md), proven rather than promised."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import tpforce

PKG = Path(tpforce.__file__).parent
FORBIDDEN_IN_CORE = ("PyQt5", "pyqtgraph", "serial")


def _modules(sub: str) -> list[str]:
    return [f"tpforce.{sub}.{m.name}" for m in pkgutil.walk_packages([str(PKG / sub)])]


def test_core_imports_neither_qt_nor_pyserial() -> None:
    """Importing every core module in a fresh interpreter pulls in no Qt and no pyserial."""
    mods = ["tpforce.core", *_modules("core")]
    code = (
        "import importlib, json, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        f"print(json.dumps([n for n in {list(FORBIDDEN_IN_CORE)!r} if n in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == []
    assert len(mods) > 5  # the walk really found the core


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(sub: str, banned: tuple[str, ...]) -> list[str]:
    bad = []
    for path in (PKG / sub).rglob("*.py"):
        for name in _imports(path):
            if any(name == b or name.startswith(b + ".") for b in banned):
                bad.append(f"{path.relative_to(PKG)} imports {name}")
    return bad


def test_io_layer_never_imports_qt_or_ui() -> None:
    """The IO layer may use pyserial but never Qt or the UI."""
    assert _violations("io", ("PyQt5", "pyqtgraph", "tpforce.ui", "tpforce.cli")) == []


def test_ui_never_touches_pyserial_or_io() -> None:
    """The UI is handed a session; it never opens ports itself."""
    assert _violations("ui", ("serial", "tpforce.io", "tpforce.cli")) == []


def test_core_never_imports_outer_layers() -> None:
    """The core stands alone."""
    banned = ("tpforce.io", "tpforce.ui", "tpforce.cli", *FORBIDDEN_IN_CORE)
    assert _violations("core", banned) == []
