"""The core never imports Textual; heavy modules stay out of the import path of the core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tokenopt_tui"


def _imports(file: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_outside_ui_imports_textual() -> None:
    core_files = [f for f in PACKAGE.rglob("*.py") if "ui" not in f.relative_to(PACKAGE).parts]
    assert len(core_files) > 10
    offenders = [str(f) for f in core_files if {"textual", "rich"} & _imports(f)]
    assert offenders == []


def test_importing_the_core_loads_neither_textual_nor_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "import tokenopt_tui.cli, tokenopt_tui.core.session, tokenopt_tui.wiring, "
        "tokenopt_tui.core.providers.mlx_local, tokenopt_tui.core.providers.openai_compat, "
        "tokenopt_tui.store, tokenopt_tui.cli.doctor\n"
        "print(sorted(m for m in ('textual', 'mlx', 'mlx_lm', 'openai', 'tiktoken') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
