"""A skill body cut into sections at its headings, so a long skill can be sent in part.

Headings are ATX `#` to `####` (deeper ones stay inside their section); a `#` line inside
a fenced block (``` or ~~~) is code, not a heading, so no section boundary ever falls
inside a fence. A fence left open at the end of the body is closed in the last section's
text: every section's fences are balanced and any subset can be sent on its own.

Parsing is cached by the body text: the registry returns the same cached body until the
file's mtime changes, and an edited body is a new text, parsed afresh.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from tokenopt_tui.core.tokens import count_tokens

#: An ATX heading of level 1-4: up to 3 spaces, 1-4 `#`, then a space or the line's end.
HEADING_RE = re.compile(r"^ {0,3}(#{1,4})(?=[ \t]|$)[ \t]*(.*?)(?:[ \t]+#+)?[ \t]*$")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
PREAMBLE_SLUG = "intro"
_WORD_RE = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset({
    "the", "and", "for", "with", "that", "this", "from", "into", "your", "you", "are",
    "was", "were", "can", "not", "but", "have", "has", "how", "what", "when", "where",
    "which", "why", "who", "will", "would", "should", "could", "use", "using", "then",
    "than", "them", "they", "its", "also", "any", "all", "our", "out", "about", "there",
    "their", "been", "being", "does", "did", "just", "more", "most", "some", "such",
    "only", "other", "very", "each", "over", "under", "after", "before", "need", "want",
    "make", "get", "please"})


@dataclass(frozen=True)
class Section:
    """One heading and the text up to the next heading of level 1-4."""

    index: int
    level: int  # 1-4; 0 for text before the first heading
    title: str  # the heading's text ("" for the preamble)
    slug: str  # what `/skill NAME#slug` names
    text: str  # the heading line and its content, fences balanced
    tokens: int
    heading_words: frozenset[str]
    words: frozenset[str]


def words_of(text: str) -> frozenset[str]:
    """Lower-cased words of 3+ letters, stopwords out, a plural `s` dropped: enough for
    word overlap between a request and a section."""
    found = set()
    for word in _WORD_RE.findall(text.lower()):
        if len(word) < 3 or word in _STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        found.add(word)
    return frozenset(found)


def slugify(title: str) -> str:
    """GitHub-style anchor: lower case, punctuation out, spaces to hyphens."""
    text = re.sub(r"[`*_~\[\]()]", "", title.lower())
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[\s]+", "-", text.strip()).strip("-")


def _fence_opening(line: str) -> tuple[str, int] | None:
    """(fence character, length) when `line` opens a fenced block."""
    match = FENCE_RE.match(line)
    if match is None:
        return None
    marks, info = match.group(1), match.group(2)
    if marks[0] == "`" and "`" in info:  # ```inline``` code on one line, not a fence
        return None
    return marks[0], len(marks)


def _closes(line: str, fence: tuple[str, int]) -> bool:
    stripped = line.strip()
    return (len(line) - len(line.lstrip(" ")) <= 3 and len(stripped) >= fence[1]
            and set(stripped) == {fence[0]})


@lru_cache(maxsize=256)
def parse_sections(body: str) -> tuple[Section, ...]:
    """The body's sections in document order (cached by the body text)."""
    raw: list[tuple[int, str, list[str]]] = [(0, "", [])]  # (level, title, lines)
    fence: tuple[str, int] | None = None
    for line in body.split("\n"):
        if fence is not None:
            if _closes(line, fence):
                fence = None
        else:
            fence = _fence_opening(line)
            heading = HEADING_RE.match(line) if fence is None else None
            if heading is not None:
                raw.append((len(heading.group(1)), heading.group(2).strip(), [line]))
                continue
        raw[-1][2].append(line)
    if fence is not None:  # an unclosed fence runs to the end: close it in the last section
        raw[-1][2].append(fence[0] * fence[1])
    sections: list[Section] = []
    used: dict[str, int] = {}
    for level, title, lines in raw:
        text = "\n".join(lines).strip("\n")
        if level == 0 and not text.strip():
            continue
        slug = PREAMBLE_SLUG if level == 0 else (slugify(title) or f"section-{len(sections)}")
        if slug in used:  # GitHub numbers repeated anchors: name, name-1, name-2
            used[slug] += 1
            slug = f"{slug}-{used[slug]}"
        used.setdefault(slug, 0)
        sections.append(Section(len(sections), level, title, slug, text, count_tokens(text),
                                words_of(title), words_of(text)))
    return tuple(sections)


def find_section(sections: tuple[Section, ...], ref: str) -> Section | None:
    """The section `ref` names: its slug, or its title in any case, or a unique slug prefix."""
    wanted = ref.strip().lstrip("#").strip().lower()
    for section in sections:
        if wanted in (section.slug, section.title.lower(), slugify(section.title)):
            return section
    prefixed = [s for s in sections if wanted and s.slug.startswith(wanted)]
    return prefixed[0] if len(prefixed) == 1 else None


def outline(sections: tuple[Section, ...], sent: frozenset[int] = frozenset(),
            depth: int = 4) -> str:
    """The headings as an indented list with their slugs; sections in `sent` marked.
    Headings deeper than `depth` are left out (unless sent), for skills whose full
    outline alone would not fit."""
    lines = []
    for section in sections:
        if section.level > depth and section.index not in sent:
            continue
        mark = ", below" if section.index in sent else ""
        title = section.title or "Introduction"
        lines.append(f"{'  ' * max(section.level - 1, 0)}- {title} (#{section.slug}{mark})")
    return "\n".join(lines)


def rank_sections(request: str, sections: tuple[Section, ...]) -> list[tuple[float, Section]]:
    """Sections sharing words with the request, best first (ties in document order): a
    word counts by how rare it is among the skill's sections, twice in a heading."""
    asked = words_of(request)
    if not asked or not sections:
        return []
    df: dict[str, int] = {}
    for section in sections:
        for word in asked & (section.words | section.heading_words):
            df[word] = df.get(word, 0) + 1
    n = len(sections)
    scored = []
    for section in sections:
        # Summed in a fixed (sorted) order: a set's order changes with the process's
        # hash seed, and float sums in another order can break a tie the other way.
        score = sum(math.log((n + 1) / (df[w] + 0.5)) * (2.0 if w in section.heading_words
                                                         else 1.0)
                    for w in sorted(asked & (section.words | section.heading_words)))
        if score > 0:
            scored.append((score, section))
    scored.sort(key=lambda item: (-item[0], item[1].index))
    return scored


def trim_to(section: Section, budget: int) -> str | None:
    """The longest run of the section's leading blocks (split at blank lines outside
    fences) within `budget` tokens, or None when not even the first block fits."""
    blocks: list[list[str]] = [[]]
    fence: tuple[str, int] | None = None
    for line in section.text.split("\n"):
        if fence is not None:
            if _closes(line, fence):
                fence = None
        elif not line.strip():
            blocks.append([])
            continue
        else:
            fence = _fence_opening(line)
        blocks[-1].append(line)
    kept: list[str] = []
    for block in (b for b in blocks if b):
        candidate = "\n\n".join([*kept, "\n".join(block)])
        if count_tokens(candidate) > budget:
            break
        kept.append("\n".join(block))
    return "\n\n".join(kept) if kept else None
