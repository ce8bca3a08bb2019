"""Model output is untrusted: make it safe to put on a terminal."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and C1 controls (0x80-0x9f, incl. CSI 0x9b).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x1B:
        return "␛"
    if code == 0x0D:
        return ""  # a bare CR would let text overwrite the line it is on
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control picture" for that byte
    return f"\\x{code:02x}"


def terminal_safe(text: str) -> str:
    """Replace control characters (ANSI escapes, CR, BEL…) with visible stand-ins."""
    return _CONTROL.sub(_visible, text)
