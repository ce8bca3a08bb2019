"""Writing to the user's config file: an accepted local server is appended as a
`[[local_servers]]` entry, never by rewriting what the user wrote."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tokenopt_tui.config import SCHEMA, ConfigError, _walk


def toml_string(text: str) -> str:
    """`text` as a TOML basic string: quotes, backslashes and every control escaped
    (C1 too, so the text is also safe to print on a terminal)."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F:  # C0, DEL, C1
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def local_server_snippet(base_url: str, model: str) -> str:
    """The config text that adds a local server to tier 1 (see `_local_servers`)."""
    return f"[[local_servers]]\nbase_url = {toml_string(base_url)}\nmodel = {toml_string(model)}\n"


def add_local_server(file: Path, base_url: str, model: str, note: str = "") -> None:
    """Append a `[[local_servers]]` entry to the config file, keeping what is there.

    The file is only appended to (created if missing), and only if the result still
    parses and validates, so an accepted offer can never break the user's config.
    Raises ConfigError naming the file when that is not possible.
    """
    try:
        existing = file.read_text(encoding="utf-8") if file.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read: {exc}") from None
    lead = "\n" if existing and not existing.endswith("\n") else ""
    comment = f"# {note}\n" if note else ""
    addition = f"{lead}\n{comment}{local_server_snippet(base_url, model)}"
    try:
        _walk(tomllib.loads(existing + addition), SCHEMA, "")
    except (tomllib.TOMLDecodeError, ConfigError) as exc:
        raise ConfigError(f"{file}: the local server was not added, the file would not be "
                          f"valid with it: {exc}") from None
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with file.open("a", encoding="utf-8") as handle:
            handle.write(addition)
    except OSError as exc:
        raise ConfigError(f"{file}: the local server was not added: {exc}") from None
