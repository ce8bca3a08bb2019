"""Where tokenopt keeps its files: XDG base directories, overridable by environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP = "tokenopt"


def _xdg(var: str, fallback: str, env: dict[str, str]) -> Path:
    value = env.get(var, "")
    # The XDG spec says relative paths are invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


@dataclass(frozen=True)
class Paths:
    config_file: Path
    data_dir: Path
    cache_dir: Path
    #: The config file was named by TOKENOPT_CONFIG: it must exist (a missing default
    #: file just means defaults).
    config_from_env: bool = False

    @property
    def db_file(self) -> Path:
        return self.data_dir / "tokenopt.db"

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Paths:
        env = dict(os.environ) if env is None else env
        config_home = _xdg("XDG_CONFIG_HOME", ".config", env)
        explicit = env.get("TOKENOPT_CONFIG")
        config_file = Path(explicit).expanduser() if explicit else config_home / APP / "config.toml"
        return cls(
            config_file=config_file,
            config_from_env=bool(explicit),
            data_dir=_xdg("XDG_DATA_HOME", ".local/share", env) / APP,
            cache_dir=_xdg("XDG_CACHE_HOME", ".cache", env) / APP,
        )
