"""Each role's minimal brief (the task and what the previous role produced, never the
parent's history) and the parser for the Validator's verdict."""

from __future__ import annotations

import re
from typing import Literal

from tokenopt_tui.core.text import one_line

#: What the role does, after its agent's own system prompt.
ROLE_PROMPTS = {
    "explorer": ("You are the Explorer of a three-step cycle. Do not carry out the task. "
                 "List two or three ways to do it, each with its pros and cons in a line "
                 "or two, then name the one you recommend. Be short."),
    "worker": ("You are the Worker of a three-step cycle. Carry out the task using the "
               "recommended option. Put code or commands in fenced blocks with their "
               "language. Give the result only."),
    "validator": ("You are the Validator of a three-step cycle. Check the result against "
                  "the task. Reply PASS if it does the task, otherwise RETRY: followed by "
                  "the reasons in one line."),
}
#: How much of a previous output or of the Explorer's findings a brief quotes.
QUOTE_CHARS = 2_000
REASON_CHARS = 300
Verdict = Literal["pass", "retry"]


def system_prompt(agent_prompt: str, role: str) -> str:
    """The role session's seed: its agent's prompt, then what the role is for."""
    return f"{agent_prompt.strip()}\n\n{ROLE_PROMPTS[role]}".strip()


def explorer_brief(task: str) -> str:
    return f"Task:\n{task}"


def worker_brief(task: str, findings: str, previous: str = "", reasons: str = "") -> str:
    """The task, the Explorer's findings and, on a retry, the last output and why it
    was sent back."""
    parts = [f"Task:\n{task}"]
    if findings.strip():
        parts.append(f"Findings (options considered):\n{_quote(findings)}")
    if reasons:
        if previous.strip():
            parts.append(f"Your previous result:\n{_quote(previous)}")
        parts.append(f"It was sent back: {reasons}\nFix that.")
    return "\n\n".join(parts)


def validator_brief(task: str, result: str, checks: str) -> str:
    return (f"Task:\n{task}\n\nResult:\n{_quote(result)}\n\nMechanical checks: {checks}\n\n"
            "Answer PASS or RETRY: reasons.")


def _quote(text: str) -> str:
    text = text.strip()
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + "\n…"


_WORD = re.compile(r"\b(PASS(?:ED|ES)?|RETRY|FAIL(?:ED|S)?)\b", re.IGNORECASE)


def parse_verdict(text: str) -> tuple[Verdict, str]:
    """PASS or RETRY and its reasons, from whatever a (small) model said.

    The first verdict word decides (PASS / RETRY; FAIL counts as a retry); a reply
    that says both PASS and RETRY on its first line, or neither anywhere, is a retry
    with the reason "unclear verdict": a result is passed only when the model said so."""
    cleaned = text.strip().replace("*", "")
    words = [m.group(1).upper() for m in _WORD.finditer(cleaned)]
    if not words:
        return "retry", f"unclear verdict: {one_line(cleaned, 80) or 'empty reply'}"
    first_line = cleaned.splitlines()[0] if cleaned else ""
    first_words = {w.upper()[:4] for w in _WORD.findall(first_line)}
    if {"PASS", "RETR"} <= first_words or {"PASS", "FAIL"} <= first_words:
        return "retry", f"unclear verdict: {one_line(cleaned, 80)}"
    if words[0].startswith("PASS"):
        return "pass", ""
    match = _WORD.search(cleaned)
    assert match is not None
    reasons = cleaned[match.end():].lstrip(" :-—\t\n")
    return "retry", one_line(reasons, REASON_CHARS) or "no reasons given"
