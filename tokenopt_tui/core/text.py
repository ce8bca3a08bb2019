"""Model and provider text is untrusted: make it safe to put on a terminal or in JSON.

One sanitiser (`terminal_safe`) for every path that writes such text where a
terminal may read it (export md, history/stats/doctor output, stderr, logs), one
JSON writer (`json_dumps_safe`) for every JSON output, and `install_safe_logging`
so that log records carrying provider text pass through the same sanitiser.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable
from typing import Any, Protocol, TextIO

# C0 controls except tab and newline, DEL, and C1 controls (0x80-0x9f, incl. CSI 0x9b).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters json.dumps(ensure_ascii=False) leaves raw but a terminal or a JavaScript
# reader may act on: DEL, C1, the two Unicode line separators, and lone surrogates
# (which could not even be encoded as UTF-8). C0 is already escaped by json itself.
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")

SAFE_LOGGER = "tokenopt_tui"


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x1B:
        return "␛"
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control picture" for that byte (CR → ␍)
    return f"\\x{code:02x}"


def terminal_safe(text: str) -> str:
    """Replace control characters (ANSI/OSC escapes, CR, BEL, C1…) with visible stand-ins.

    Newline and tab are kept. A CR that ends a line (CRLF) or the text is dropped, so
    Windows line ends read as plain newlines and a stream cut between CR and LF never
    shows a stray mark; any other CR becomes "␍": it can never return the cursor and
    let the text after it overwrite the line. The result contains no control
    character but newline and tab, so applying it twice changes nothing.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if text.endswith("\r"):
            text = text[:-1]
    return _CONTROL.sub(_visible, text)


def one_line(text: str, limit: int) -> str:
    """`text` as one line of at most `limit` characters: runs of whitespace (newlines
    included) become one space, and a cut is marked with a final "…". The one truncate
    helper for titles, error summaries and list columns, so they all cut alike."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: max(limit - 1, 0)] + "…"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_dumps_safe(data: Any, *, indent: int | None = 2,
                    default: Callable[[Any], Any] | None = None) -> str:
    """JSON text safe to print: readable non-ASCII, but every control escaped.

    Like `json.dumps(..., ensure_ascii=False)` (C0 already comes out as \\uXXXX), with
    DEL, C1 (U+0080-U+009F), U+2028/U+2029 and lone surrogates escaped as \\uXXXX too.
    These characters can only occur inside JSON strings, so the escaping is exact:
    `json.loads` gives back the original text.
    """
    text = json.dumps(data, ensure_ascii=False, indent=indent, default=default)
    return _JSON_RAW.sub(_json_escape, text)


class Writable(Protocol):
    """Where a command writes its text: a TextIO, or a SafeWriter around one."""

    def write(self, text: str, /) -> int: ...


class SafeWriter:
    """A text stream wrapper: everything written passes through `terminal_safe` (and a
    secret scrubber when given), so a command cannot forget one of its strings."""

    def __init__(self, out: Writable, scrub: Callable[[str], str] | None = None) -> None:
        self._out = out
        self._scrub = scrub

    def write(self, text: str) -> int:
        safe = terminal_safe(self._scrub(text) if self._scrub is not None else text)
        return self._out.write(safe)

    def flush(self) -> None:
        flush = getattr(self._out, "flush", None)
        if flush is not None:
            flush()


class SafeLogFilter(logging.Filter):
    """Sanitises a record in place: message with its args, exception and stack text.

    In place, so every handler after this one (and the root's, via propagation)
    sees the safe text too.
    """

    def __init__(self, scrub: Callable[[str], str] | None = None,
                 emit_level: int = logging.NOTSET) -> None:
        super().__init__()
        self.scrub = scrub
        self.emit_level = emit_level

    def _clean(self, text: str) -> str:
        return terminal_safe(self.scrub(text) if self.scrub is not None else text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad format args: show the raw parts rather than lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = self._clean(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return record.levelno >= self.emit_level


def install_safe_logging(scrub: Callable[[str], str] | None = None,
                         stream: TextIO | None = None) -> logging.Handler:
    """Route tokenopt's warnings to stderr through `terminal_safe` (and `scrub`).

    Without a handler, Python prints warnings with its last-resort handler, raw. This
    adds one handler (warnings and worse, message only, as the last resort printed them) on
    the `tokenopt_tui` logger; records of its child loggers pass through it too, and it
    cleans each record in place before any other handler sees it. Calling it again
    replaces the handler (e.g. with a scrubber for newly known secrets).
    """
    logger = logging.getLogger(SAFE_LOGGER)
    for old in [h for h in logger.handlers if getattr(h, "tokenopt_safe", False)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    # Level NOTSET so that records of every level are cleaned (for the handlers that
    # follow); the filter lets only warnings and worse through to this stream.
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(SafeLogFilter(scrub, emit_level=logging.WARNING))
    handler.tokenopt_safe = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    return handler
