"""Files shipped with tokenopt (themes/, skills/), found the same way installed or not."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def bundled_dir(name: str) -> Path:
    """`tokenopt_tui/<name>` inside an installed wheel, else the checkout's top-level `<name>/`."""
    packaged = Path(str(files("tokenopt_tui") / name))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1] / name
