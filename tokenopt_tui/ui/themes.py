"""Theme files: bundled and user TOML themes, validated into Textual `Theme`s.

A broken file must never stop the app: each problem becomes one warning naming
the file and the key, and the remaining themes still load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from tokenopt_tui.config import ConfigError, check_bool, check_number, check_text, read_toml
from tokenopt_tui.resources import bundled_dir

COLOUR_KEYS = (
    "primary", "secondary", "accent", "background", "surface", "panel", "boost",
    "warning", "error", "success", "foreground",
)
REQUIRED_KEYS = ("name", "primary")


class ThemeFileError(ConfigError):
    """A theme file is invalid; the message names the file and the key."""


@dataclass
class ThemeLoad:
    """What a scan of the theme folders produced."""

    themes: list[Theme] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def bundled_theme_dir() -> Path | None:
    """The themes shipped in the wheel, or the repo's `themes/` in a source checkout."""
    folder = bundled_dir("themes")
    return folder if folder.is_dir() else None


def user_theme_dir(config_file: Path) -> Path:
    """User themes live beside the config file: `<config dir>/themes/*.toml`."""
    return config_file.parent / "themes"


def _colour(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"key '{key}': expected a colour string, got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f"key '{key}': {value!r} is not a colour") from None
    return value


def _variables(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ThemeFileError(f"key '{key}': expected a table")
    for name, item in value.items():
        if not isinstance(item, str):
            raise ThemeFileError(f"key '{key}.{name}': expected a string, got {item!r}")
    return dict(value)


SCHEMA: dict[str, Callable[[Any, str], Any]] = {
    "name": check_text,
    "dark": check_bool,
    "luminosity_spread": check_number(0, 1),
    "text_alpha": check_number(0, 1),
    "variables": _variables,
    **{key: _colour for key in COLOUR_KEYS},
}


def theme_from_mapping(data: dict[str, Any]) -> Theme:
    """Validate a parsed TOML table into a Theme; errors name the key."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in SCHEMA:
            raise ThemeFileError(f"unknown key '{key}'")
        values[key] = SCHEMA[key](value, key)
    for key in REQUIRED_KEYS:
        if key not in values:
            raise ThemeFileError(f"key '{key}' is required")
    return Theme(**values)


def load_theme_file(path: Traversable) -> Theme:
    """Read one theme file; raises ThemeFileError naming the file (and key)."""
    data = read_toml(path, ThemeFileError)
    try:
        return theme_from_mapping(data)
    except ConfigError as exc:  # ThemeFileError, or a shared check from config.py
        raise ThemeFileError(f"{path}: {exc}") from None


def load_themes(folders: Iterable[Traversable | None]) -> ThemeLoad:
    """Load every `*.toml` in `folders` (later folders override earlier names)."""
    result = ThemeLoad()
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.iterdir(), key=lambda p: p.name):
            if not path.name.endswith(".toml") or not path.is_file():
                continue
            try:
                result.themes.append(load_theme_file(path))
            except ThemeFileError as exc:
                result.warnings.append(f"theme ignored: {exc}")
    return result
