"""Theme files: bundled and user TOML themes, validated into Textual `Theme`s.

A broken file must never stop the app: each problem becomes one warning naming
the file and the key, and the remaining themes still load.

The theme picked at run time (command palette, "Change theme") is remembered in
a small JSON state file under the data folder, not in config.toml: the config is
the user's hand-written file and the app never rewrites it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
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


# -- the remembered choice --------------------------------------------------------

UI_STATE_FILE = "ui-state.json"
THEME_STATE_KEY = "theme"


def ui_state_file(data_dir: Path) -> Path:
    """UI state is app-written data, so it lives in the data folder, beside the database."""
    return data_dir / UI_STATE_FILE


def _read_state(state_file: Path) -> dict[str, Any]:
    """The state file's JSON object; raises OSError/ValueError when it can't be used."""
    data = json.loads(state_file.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    return data


def read_saved_theme(state_file: Path) -> tuple[str | None, str | None]:
    """The remembered theme name, and a warning when the file exists but can't be used.

    Returns `(name, None)`, `(None, None)` when nothing was saved yet, or
    `(None, warning)`: a corrupt or unreadable state file must cost the user one
    warning and their saved choice, never the start of the app.
    """
    try:
        data = _read_state(state_file)
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError too
        return None, f"UI state ignored: {state_file}: {exc}"
    name = data.get(THEME_STATE_KEY)
    if name is None:
        return None, None
    if not isinstance(name, str) or not name:
        return None, (f"UI state ignored: {state_file}: key '{THEME_STATE_KEY}': "
                      f"expected a theme name, got {name!r}")
    return name, None


def write_saved_theme(state_file: Path, name: str) -> None:
    """Remember `name` as the theme, keeping any other keys of the state file.

    The file is written to a temporary file in the same folder, then renamed over
    the old one (`os.replace` is atomic), so a crash mid-write leaves the previous
    state rather than half a JSON document. A state file that can't be read is
    simply replaced. Raises OSError when the folder or file can't be written.
    """
    try:
        data = _read_state(state_file)
    except (OSError, ValueError):
        data = {}
    data[THEME_STATE_KEY] = name
    state_file.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=state_file.parent, prefix=f".{state_file.name}.",
                                suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, state_file)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
