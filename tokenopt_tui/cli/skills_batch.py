"""`tokenopt skills match --file FILE`: many requests, one JSON line each.

Each request goes through the same path a chat request takes (`ask_window`, then
`SkillLibrary.select`), so `loaded` is what the model would be sent. Blank lines are
skipped; a line that is not UTF-8 is reported on stderr as FILE:LINE and the others
still run (exit code 1). FILE `-` reads standard input.
"""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING

from tokenopt_tui.core.text import Writable, json_dumps_safe

if TYPE_CHECKING:
    from tokenopt_tui.core.skills.library import SkillLibrary

#: How many of the ranked candidates each line reports.
RANKED = 5


def read_requests(name: str, stdin: IO[bytes] | None = None) -> bytes:
    """The raw bytes of FILE (or stdin for `-`); OSError names the file."""
    if name == "-":
        return (stdin or sys.stdin.buffer).read()
    from pathlib import Path

    path = Path(name).expanduser()
    if path.is_dir():
        raise IsADirectoryError(f"{name}: is a folder, not a file of requests")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise OSError(f"{name}: cannot be read: {exc.strerror or exc}") from None


def match_file(library: SkillLibrary, name: str, out: Writable, err: Writable,
               stdin: IO[bytes] | None = None) -> int:
    """One JSON line per request: loaded (in order), the top ranked with scores, the
    skipped with why, and the time `select` took."""
    from tokenopt_tui.core.session import ask_window

    label = "<stdin>" if name == "-" else name
    try:
        data = read_requests(name, stdin)
    except OSError as exc:
        err.write(f"tokenopt: {exc}\n")
        return 2
    failed = 0
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            request = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as exc:
            err.write(f"tokenopt: {label}:{number}: not UTF-8 text (byte {exc.start}); "
                      "line skipped\n")
            failed += 1
            continue
        if not request.strip():
            continue
        asked = ask_window(request)  # what a chat request gives the matcher
        selection = library.select(asked)
        ranked = library.rank(asked, threshold=0.0)[:RANKED]
        out.write(json_dumps_safe({
            "request": request,
            "line": number,
            "loaded": [s.name for s in selection.loaded],
            "ranked": [[m.name, m.score] for m in ranked],
            "skipped": [[n, why] for n, why in selection.skipped],
            "elapsed_ms": round(selection.elapsed_ms, 3),
        }, indent=None) + "\n")
    return 1 if failed else 0
