"""The layers hold: the core never imports Textual, the UI, the CLI or the wiring; heavy
modules stay out of the import path of the core. The layer contract itself lives in
pyproject.toml ([tool.importlinter]); these tests run it and keep it complete."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tokenopt_tui"


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


def _layers() -> list[str]:
    """The layers contract's entries, top first (e.g. "cli", "config : paths : ...")."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c for c in contracts if c["type"] == "layers"]
    return list(layers["layers"])


def test_every_top_level_module_has_a_layer() -> None:
    """A new module at the package root must be placed in a layer, or the contract misses it."""
    named: set[str] = set()
    for layer in _layers():
        named.update(part.strip() for part in layer.replace("|", ":").split(":"))
    top_level = {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    assert {"cli", "ui", "wiring", "core", "store", "config"} <= top_level
    assert top_level - named == set()


def test_import_contracts_are_kept() -> None:
    """The same check as `make lint`, so `make test` alone also catches a layer breach."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout
    assert "Layers: cli > ui > wiring > core > store > root helpers KEPT" in out.stdout
