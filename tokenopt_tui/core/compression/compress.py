"""Deterministic extractive compression of a chat history (no model call, linear time).

`compress()` returns a *view*: one system-role summary of the older messages followed by
the last `keep_last` messages verbatim. The originals are never modified.

What the summary keeps verbatim: every user request (its intent sentence and any sentence
with a request verb), decisions with their reason, action items and pending tasks with
their owner, and every identifier (paths, URLs, emails, IDs, hashes, versions, numbers
with units). What it compresses: tool output and long assistant reasoning (first sentence
plus identifiers) and long code blocks (a one-line note plus identifiers). What it drops:
bare confirmations ("ok", "thanks", "sounds good", "👍"...) and duplicate lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tokenopt_tui.core.providers.base import ChatMessage
from tokenopt_tui.core.tokens import count_tokens

SUMMARY_HEADER = "[Compacted summary of {n} earlier messages; the originals are kept in the store]"
_HEADER_RE = re.compile(r"^\[Compacted summary of (\d+) earlier messages")
MAX_KEPT_FENCE_LINES = 20  # user code blocks shorter than this stay whole
MAX_KEPT_ASSISTANT_FENCE_LINES = 6

# A fence opener; "~~~^^^^" (a Python traceback's underline) is not one.
_FENCE_RE = re.compile(r"^[ \t]*(```|~~~)(?![^\n]*\^)")
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'`(\[@#$])")

_CONFIRMATION_WORDS = frozenset(
    [
        "ok",
        "okay",
        "k",
        "kk",
        "thanks",
        "thank",
        "thx",
        "ty",
        "you",
        "so",
        "much",
        "very",
        "sounds",
        "good",
        "great",
        "perfect",
        "nice",
        "cool",
        "got",
        "it",
        "lgtm",
        "yes",
        "yep",
        "yeah",
        "sure",
        "awesome",
        "done",
        "noted",
        "ack",
        "cheers",
        "fine",
        "works",
        "for",
        "me",
        "makes",
        "sense",
        "alright",
        "all",
        "right",
        "excellent",
        "brilliant",
        "appreciated",
        "appreciate",
        "that",
        "wonderful",
        "super",
    ]
)
_WORD_RE = re.compile(r"[a-z']+")
_DIGIT_RE = re.compile(r"\d")

_REQUEST_RE = re.compile(
    r"\b(?:please|pls|can you|could you|would you|will you|need you to|i need|i want|"
    r"we need|let's|lets|make sure|don't|do not|never|always|instead|actually|rather|"
    r"should|must|add|fix|write|draft|check|find|update|remove|change|create|run|deploy|"
    r"investigate|summari[sz]e|review|rewrite|compare|explain|keep|use|avoid|set|list|"
    r"send|show|give|prepare|plan|look into|figure out|help)\b",
    re.IGNORECASE,
)
_DECISION_RE = re.compile(
    r"\b(?:decided|decision|agreed|we'll go with|we will go with|going with|go with|"
    r"chose|choose|chosen|settled on|opted|picked|we'll use|we will use)\b",
    re.IGNORECASE,
)
_ERROR_RE = re.compile(r"\b\w*(?:Error|Exception)\b:|\b(?:FATAL|FAILED|ERROR|panic)\b")
MAX_ERROR_LINES = 3  # per message: the error a log or traceback ends in is worth keeping
_REASON_START_RE = re.compile(r"^(?:because|since|the reason|reason:|that's because)", re.I)
_ACTION_RE = re.compile(
    r"\b(?:TODO|FIXME|action item|follow[- ]up|pending|owner:|assigned to|"
    r"(?!(?:It|This|That|There|They|We|You|He|She|What|Which|Who|How|When|Where|Why|The|"
    r"And|But|So|If|Then|Nothing|Everything|Someone)\b)[A-Z][a-z]+ will\b|I'll|I will|"
    r"we'll need|by (?:Mon|Tue|Wed|Thu|Fri|EOD|end of))"
    r"|@[A-Za-z][\w.-]*",
)

# Identifier patterns. URLs and emails are masked before paths so they are not split.
_URL_RE = re.compile(r"\bhttps?://[^\s<>\"'`)\]]+")
_EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PATH_RE = re.compile(r"(?<![\w/:.@-])(?:~/|\.{1,2}/|/)?[\w.@-]+(?:/[\w.@-]+)+/?")
_FILE_EXTS = (r"\.(?:py|ya?ml|json|toml|md|sql|csv|sh|ts|tsx|js|go|rs|conf|cfg|ini|log|txt|tf|"
              r"html|css|ipynb|parquet|lock|env|service|xml|docx|pdf)\b")
_FILE_RE = re.compile(r"(?<![\w/.-])[\w-]+(?:\.[\w-]+)*" + _FILE_EXTS)
_FILE_EXT_RE = re.compile(_FILE_EXTS)  # the cheap test for whether _FILE_RE can match
_VERSION_RE = re.compile(r"(?<![\w.])v?\d+\.\d+(?:\.\d+)+(?:-[\w.]+)?\b|(?<![\w.])v\d+\.\d+\b")
_HASH_RE = re.compile(r"\b[0-9a-f]{7,64}\b")
_UUID_RE = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_TICKET_RE = re.compile(r"\b[A-Z][A-Z0-9]{1,9}(?:-\d+)+\b|(?<![\w&])#\d{2,}\b")
_RESOURCE_RE = re.compile(r"\b[a-z]{1,12}-[0-9a-f]{8,}\b")  # sg-0c41d9e2…, vol-0a1b2c3d
_IP_RE = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2}|:\d{2,5})?(?![\w.])")
_HANDLE_RE = re.compile(r"(?<![\w.])@[A-Za-z][\w-]*")
_MONEY_RE = re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:[kKMB]|bn|million|billion)\b)?")
_UNIT_RE = re.compile(
    r"(?<![\w.])\d[\d,]*(?:\.\d+)?\s?(?:%|(?:ms|µs|us|ns|s|sec|secs|seconds|min|mins|minutes|"
    r"h|hrs|hours|days|weeks|GB|MB|KB|TB|GiB|MiB|KiB|TiB|Gi|Mi|vCPU|cores|rps|qps|"
    r"req/s|tokens|rows|users|requests|errors|pods|nodes|replicas|words|chars|px|kg|km|"
    r"x)\b)"
)
_PATTERNS = (_UUID_RE, _RESOURCE_RE, _IP_RE, _HASH_RE, _VERSION_RE, _TICKET_RE, _HANDLE_RE,
             _MONEY_RE, _UNIT_RE)
_PATTERN_ORDER = (_FILE_RE, *_PATTERNS)  # the order identifiers are listed in
_DIGIT_PATTERNS = [p for p in _PATTERNS if p is not _HANDLE_RE]  # each needs a digit
_TRAILING = ".,;:!?)]}'\""


@dataclass(frozen=True)
class CompressionResult:
    """The compressed view plus what happened, for the compression events panel."""

    messages: tuple[ChatMessage, ...]
    tokens_before: int
    tokens_after: int
    kept: tuple[str, ...]
    compressed: tuple[str, ...]
    dropped: tuple[str, ...]

    @property
    def ratio(self) -> float:
        return self.tokens_before / self.tokens_after if self.tokens_after else 1.0


def extract_identifiers(text: str) -> list[str]:
    """Every identifier in `text`, in order of first appearance, without duplicates."""
    found: dict[str, None] = {}

    def add(value: str) -> None:
        value = value.rstrip(_TRAILING)
        if len(value) > 1:
            found.setdefault(value, None)

    # Each pattern runs only when a character it needs is present: most sentences
    # have no URL, email or handle, and many have no digit.
    masked = text
    for pattern, marker in ((_URL_RE, "://"), (_EMAIL_RE, "@")):
        if marker in masked:
            for m in pattern.finditer(masked):
                add(m.group())
            masked = pattern.sub(" ", masked)
    if "/" in masked:
        for m in _PATH_RE.finditer(masked):
            value = m.group()
            last = value.rstrip("/").rsplit("/", 1)[-1]
            if value[0] in "/~." or value.count("/") >= 2 or "." in last:
                add(value)
    patterns: list[re.Pattern[str]] = [_FILE_RE] if _FILE_EXT_RE.search(masked) else []
    if _DIGIT_RE.search(masked):
        patterns += _DIGIT_PATTERNS
    if "@" in masked:
        patterns.append(_HANDLE_RE)
    for pattern in sorted(patterns, key=_PATTERN_ORDER.index):
        for m in pattern.finditer(masked):
            value = m.group()
            if pattern is _HASH_RE and (value.isdigit() or value.isalpha()):
                continue  # a hash mixes digits and letters
            add(value)
    return list(found)


def is_confirmation(text: str) -> bool:
    """A bare acknowledgement ("ok", "thanks!", "sounds good 👍") with nothing else in it."""
    stripped = text.strip()
    if not stripped or len(stripped) > 60:
        return False
    words = _WORD_RE.findall(stripped.lower())
    if any(ch.isdigit() for ch in stripped):
        return False
    return all(w in _CONFIRMATION_WORDS for w in words) and len(words) <= 8


def _segments(text: str) -> Iterable[tuple[bool, str, list[str]]]:
    """Split into (is_fence, info_string, lines); an unclosed fence runs to the end."""
    lines = text.splitlines()
    buf: list[str] = []
    in_fence = False
    marker = ""
    info = ""
    for line in lines:
        m = _FENCE_RE.match(line)
        if not in_fence and m:
            if buf:
                yield False, "", buf
            buf, in_fence, marker = [line], True, m.group(1)
            info = line.strip()[3:].strip().split(" ")[0]
        elif in_fence and m and m.group(1) == marker and line.strip() == marker:
            buf.append(line)
            yield True, info, buf
            buf, in_fence = [], False
        else:
            buf.append(line)
    if buf:
        if in_fence:
            buf.append(marker)  # close it so the output stays balanced
            yield True, info, buf
        else:
            yield False, "", buf


def _sentences(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        out.extend(s.strip() for s in _SENTENCE_SPLIT_RE.split(line) if s.strip())
    return out


def _code_note(info: str, body: list[str], idents: list[str]) -> str:
    note = f"[code block: {len(body) - 2} lines of {info or 'text'}]"
    return f"{note} ids: {', '.join(idents)}" if idents else note


class _Summary:
    """Accumulates the sections of the summary, dropping duplicate lines."""

    def __init__(self) -> None:
        self.instructions: list[str] = []
        self.requests: list[str] = []
        self.decisions: list[str] = []
        self.actions: list[str] = []
        self.context: list[str] = []
        self._seen: set[str] = set()
        self.duplicates = 0

    def add(self, section: list[str], line: str) -> bool:
        key = " ".join(line.split()).lower()
        if not key:
            return False
        if key in self._seen:
            self.duplicates += 1
            return False
        self._seen.add(key)
        section.append(line)
        return True

    def render(self, n: int, identifiers: list[str], *, with_context: bool = True) -> str:
        parts = [SUMMARY_HEADER.format(n=n)]
        sections = (
            ("Instructions", self.instructions),
            ("User requests (verbatim)", self.requests),
            ("Decisions", self.decisions),
            ("Action items and pending tasks", self.actions),
            ("Context", self.context if with_context else []),
        )
        for title, items in sections:
            if items:
                parts.append(f"{title}:")
                parts.extend(f"- {item}" for item in items)
        body = "\n".join(parts)
        missing = [i for i in identifiers if i not in body]
        if missing:
            body += "\nIdentifiers: " + ", ".join(missing)
        return body


def _absorb_summary(text: str, summary: _Summary, identifiers: dict[str, None]) -> int | None:
    """Fold an earlier summary back into its sections, so compacting again costs only the
    new messages. Returns how many messages it stood for (None: not a summary)."""
    lines = text.splitlines()
    m = _HEADER_RE.match(lines[0]) if lines else None
    if m is None:
        return None
    titles = {"Instructions:": summary.instructions,
              "User requests (verbatim):": summary.requests,
              "Decisions:": summary.decisions,
              "Action items and pending tasks:": summary.actions,
              "Context:": summary.context}
    section = summary.context
    items: list[tuple[list[str], list[str]]] = []
    for line in lines[1:]:
        if line in titles:
            section = titles[line]
        elif line.startswith("Identifiers: "):
            identifiers.update(dict.fromkeys(line[len("Identifiers: "):].split(", ")))
        elif line.startswith("- ") or not items:
            items.append((section, [line[2:] if line.startswith("- ") else line]))
        else:  # a multi-line item (a kept code block)
            items[-1][1].append(line)
    for target, parts in items:
        item = "\n".join(parts)
        identifiers.update(dict.fromkeys(extract_identifiers(item)))
        summary.add(target, item)
    return int(m.group(1))


def _summarise_message(
    index: int,
    msg: ChatMessage,
    summary: _Summary,
    compressed: list[str],
    dropped: list[str],
    identifiers: dict[str, None],
) -> None:
    role = msg.role
    label = f"#{index} {role}"
    if role != "system" and is_confirmation(msg.content):
        dropped.append(f"{label}: confirmation {msg.content.strip()[:30]!r}")
        return
    if role == "system":
        identifiers.update(dict.fromkeys(extract_identifiers(msg.content)))
        summary.add(summary.instructions, " ".join(msg.content.split()))
        return
    is_user = role == "user"
    kept_parts: list[str] = []
    notes = 0
    first_done = False
    errors = 0
    for is_fence, info, lines in _segments(msg.content):
        idents = extract_identifiers("\n".join(lines[1:-1] if is_fence else lines))
        for ident in idents:
            identifiers.setdefault(ident, None)
        if is_fence:
            limit = MAX_KEPT_FENCE_LINES if is_user else MAX_KEPT_ASSISTANT_FENCE_LINES
            if len(lines) - 2 < limit:
                kept_parts.append("\n".join(lines))
            else:
                kept_parts.append(_code_note(info, lines, idents))
                notes += 1
            continue
        sentences = _sentences(lines)
        prev_decision = False
        for sentence in sentences:
            decision = bool(_DECISION_RE.search(sentence))
            action = bool(_ACTION_RE.search(sentence))
            if decision or (prev_decision and _REASON_START_RE.match(sentence)):
                summary.add(summary.decisions, sentence)
                prev_decision = True
                continue
            prev_decision = False
            if action:
                summary.add(summary.actions, sentence)
                continue
            if not first_done:
                first_done = True
                kept_parts.append(sentence)
            elif is_user and (
                _REQUEST_RE.search(sentence) or sentence.endswith("?") or _DIGIT_RE.search(sentence)
            ):
                kept_parts.append(sentence)
            elif sentence.endswith("?") and not is_user:
                kept_parts.append(sentence)  # an open question to the user
            elif not is_user and errors < MAX_ERROR_LINES and _ERROR_RE.search(sentence):
                errors += 1
                kept_parts.append(sentence)
    text = " ".join(p for p in kept_parts if "\n" not in p)
    blocks = [p for p in kept_parts if "\n" in p]
    # A kept block after an empty lead would open the "- " item with a fence.
    line = text if not blocks else "\n".join([text or "code:", *blocks]).strip()
    if is_user:
        if line:
            summary.add(summary.requests, line)
    elif line:
        if summary.add(summary.context, line):
            compressed.append(
                f"{label}: reduced to key sentences"
                + (f", {notes} code block(s) → note" if notes else "")
            )
        else:
            dropped.append(f"{label}: duplicate")


def compress(
    messages: Sequence[ChatMessage],
    *,
    keep_last: int = 6,
    target_tokens: int | None = None,
    counts: Sequence[int] | None = None,
) -> CompressionResult:
    """Summarise all but the last `keep_last` messages; see the module docstring.

    `counts` are the messages' token counts when the caller has them cached."""
    if counts is None or len(counts) != len(messages):
        counts = [count_tokens(m.content) for m in messages]
    before = sum(counts)
    keep_last = max(0, keep_last)
    split = max(0, len(messages) - keep_last)
    if split == 0 or (target_tokens is not None and before <= target_tokens):
        return CompressionResult(
            tuple(messages), before, before, (f"all {len(messages)} messages verbatim",), (), ()
        )
    older, recent = messages[:split], messages[split:]
    summary = _Summary()
    compressed: list[str] = []
    dropped: list[str] = []
    identifiers: dict[str, None] = {}
    represented = 0
    for i, msg in enumerate(older):
        absorbed = None
        if msg.role == "system":
            absorbed = _absorb_summary(msg.content, summary, identifiers)
        if absorbed is None:
            represented += 1
            _summarise_message(i, msg, summary, compressed, dropped, identifiers)
        else:
            represented += absorbed
            compressed.append(f"#{i} earlier summary of {absorbed} message(s) merged")
    idents = list(identifiers)
    text = summary.render(represented, idents)
    if target_tokens is not None:
        recent_tokens = sum(counts[split:])
        if count_tokens(text) + recent_tokens > target_tokens:
            text = summary.render(represented, idents, with_context=False)
            compressed.append("context notes left out to meet the target")
    if summary.duplicates:
        dropped.append(f"{summary.duplicates} duplicate line(s)")
    view = (ChatMessage("system", text), *recent)
    after = count_tokens(text) + sum(counts[split:])
    kept = (
        f"{len(summary.requests)} user request(s) verbatim",
        f"{len(summary.decisions)} decision(s)",
        f"{len(summary.actions)} action item(s)",
        f"{len(idents)} identifier(s)",
        f"last {len(recent)} message(s) verbatim",
    )
    return CompressionResult(view, before, after, kept, tuple(compressed), tuple(dropped))
