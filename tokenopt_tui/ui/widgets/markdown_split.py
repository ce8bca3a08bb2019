"""Where a long Markdown reply can be cut into independent documents.

A reply is shown as a column of Markdown widgets ("chunks") so that each
re-layout while streaming only touches the last few blocks. A cut is only made
where rendering the two halves separately looks exactly like rendering the
whole: after a blank line, outside code fences, before a line that starts a new
block (not a list item, an indented or quoted continuation, or a table row).
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CONTINUATION = re.compile(r"^(\s|[-*+>|]|\d{1,9}[.)](\s|$)|\[[^\]]*\]:)")


def split_point(text: str, start: int = 0) -> int | None:
    """The first offset >= `start` where `text` can be cut in two, or None.

    The offset is the start of a complete line (one followed by a newline), so
    the second half begins with a whole block.
    """
    fence: str | None = None
    offset = 0
    previous_blank = False
    lines = text.split("\n")
    for index, line in enumerate(lines):
        complete = index < len(lines) - 1
        if fence is None and previous_blank and complete and offset >= start \
                and line.strip() and not _CONTINUATION.match(line):
            return offset
        match = _FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif marker[0] == fence[0] and len(marker) >= len(fence) \
                    and not line.strip()[len(marker):].strip():
                fence = None
        previous_blank = fence is None and not line.strip()
        offset += len(line) + 1
    return None


def split_chunks(text: str, size: int) -> list[str]:
    """Cut `text` into pieces of roughly `size` characters at safe points (see above)."""
    pieces: list[str] = []
    rest = text
    while size and len(rest) >= size:
        cut = split_point(rest, size // 2)
        if cut is None:
            break
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces
