"""Optional LLM rewrite of an extractive summary, checked before it is trusted.

The model (the cheapest free tier the router can reach) gets the extractive
summary and is asked for a shorter one. Its answer is untrusted: it is discarded,
and the extractive summary used, when it is empty, garbled, repetitive, longer, or
loses identifiers. Whatever the call cost is reported, used or not.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tokenopt_tui.core.compression.compress import extract_identifiers
from tokenopt_tui.core.providers.base import ChatMessage
from tokenopt_tui.core.tokens import count_tokens

PROMPT = (
    "Rewrite the conversation summary below so it is shorter. Keep every user request's "
    "intent, every decision with its reason, every action item with its owner, and copy "
    "every identifier (paths, URLs, numbers, IDs, versions) exactly. Use short bullet "
    "points under the same headings. Reply with the summary only.\n\n{summary}"
)
MIN_LETTER_SHARE = 0.5
MAX_TRIGRAM_SHARE = 0.2
MIN_IDENTIFIER_SHARE = 0.9


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def summary_request(extractive: str) -> list[ChatMessage]:
    return [ChatMessage("user", PROMPT.format(summary=extractive))]


def judge(candidate: str, extractive: str,
          identifiers: Sequence[str] | None = None) -> Verdict:
    """Is `candidate` a usable replacement for `extractive`? Says why not."""
    text = candidate.strip()
    if not text:
        return Verdict(False, "empty")
    visible = [c for c in text if not c.isspace()]
    letters = sum(c.isalpha() for c in visible)
    if letters < MIN_LETTER_SHARE * len(visible) or any(
            ord(c) < 32 and c not in "\n\t" for c in text):
        return Verdict(False, "garbled")
    words = re.findall(r"\w+", text.lower())
    trigrams = list(zip(words, words[1:], words[2:], strict=False))
    if len(trigrams) >= 10:
        top = Counter(trigrams).most_common(1)[0][1]
        if top > MAX_TRIGRAM_SHARE * len(trigrams):
            return Verdict(False, "repetitive")
    if count_tokens(text) >= count_tokens(extractive):
        return Verdict(False, "not shorter than the extractive summary")
    wanted = list(identifiers) if identifiers is not None else extract_identifiers(extractive)
    if wanted:
        kept = sum(1 for ident in wanted if ident in text)
        if kept < MIN_IDENTIFIER_SHARE * len(wanted):
            return Verdict(False, f"lost identifiers ({kept} of {len(wanted)} kept)")
    return Verdict(True)
