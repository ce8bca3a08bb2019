"""Part of a skill within a token allowance: its outline, some sections, a note.

A matched skill whose body does not fit what is left of the allowance sends its outline
and the (at most three) sections that share the most words with the request, in document
order; a skill asked for with `/skill NAME` sends as many sections as fit, in order;
`/skill NAME#section` sends that section (cut at a blank line outside code blocks when
it alone is too big). The text says what was left out and how to load it. Its tokens
are counted on the final text (`count_tokens`), never estimated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tokenopt_tui.core.skills.registry import SkillError, SkillRegistry
from tokenopt_tui.core.skills.sections import (
    Section,
    find_section,
    outline,
    parse_sections,
    rank_sections,
    trim_to,
)
from tokenopt_tui.core.tokens import count_tokens

#: A matched skill sends at most this many of its best sections (the user asks for more).
MAX_MATCHED_SECTIONS = 3


@dataclass(frozen=True)
class Part:
    """What goes to the model for a skill sent in part."""

    text: str
    tokens: int
    sections: tuple[str, ...]  # slugs sent, in document order


@dataclass(frozen=True)
class SkillRequest:
    """`/skill NAME` (section None: the whole skill) or `/skill NAME#section`."""

    name: str
    section: str | None = None

    @classmethod
    def parse(cls, spec: str) -> SkillRequest:
        name, _, section = spec.strip().partition("#")
        if not name.strip():
            raise SkillError(f"{spec!r}: name a skill, as NAME or NAME#section")
        return cls(name.strip(), section.strip() or None)

    def __str__(self) -> str:
        return self.name if self.section is None else f"{self.name}#{self.section}"


def check_request(registry: SkillRegistry, spec: str) -> SkillRequest:
    """The request `spec` names, or SkillError saying which skill or section is unknown
    (and which ones exist)."""
    request = SkillRequest.parse(spec)
    if request.name not in registry.skills:
        raise SkillError(f"no skill named {request.name!r} (tokenopt skills list, or /skills "
                         "in the chat, shows them)")
    if request.section is not None:
        sections = parse_sections(registry.body(request.name)[0])
        found = find_section(sections, request.section)
        if found is None:
            names = ", ".join(f"#{s.slug}" for s in sections)
            raise SkillError(f"skill {request.name!r} has no section {request.section!r}; "
                             f"its sections: {names}")
        request = SkillRequest(request.name, found.slug)
    return request


def _compose(name: str, sections: tuple[Section, ...], chosen: dict[int, str],
             body_tokens: int, depth: int = 4) -> str:
    """Outline, the chosen sections' text in document order, then the left-out note."""
    sent = frozenset(chosen)
    left = [s for s in sections if s.index not in sent]
    shallow = f" (headings to level {depth})" if depth < 4 else ""
    parts = [f"Part of this skill: {len(sent)} of {len(sections)} sections (the whole is "
             f"{body_tokens:,} tokens). Outline{shallow}:\n{outline(sections, sent, depth)}"]
    parts += [chosen[i] for i in sorted(chosen)]
    if left:
        example = left[0].slug
        parts.append(f"Left out: the sections not marked 'below' in the outline. To read "
                     f"one, the user types `/skill {name}#section` in the chat (e.g. "
                     f"`/skill {name}#{example}`) or runs `tokenopt ask --skill "
                     f"{name}#section`; it loads into the next request. `/skill {name}` "
                     "loads the whole skill, as far as the allowance allows.")
    return "\n\n".join(parts)


def _fit(name: str, sections: tuple[Section, ...], body_tokens: int,
         candidates: Sequence[Section], budget: int, *, stop_at_first_misfit: bool,
         limit: int | None = None, trim: bool = False) -> Part | None:
    """Add candidates one by one while the composed text stays within `budget`; an
    outline too long for half the budget keeps only its upper heading levels."""
    chosen: dict[int, str] = {}
    for depth in (4, 2, 1):
        text = _compose(name, sections, chosen, body_tokens, depth)
        tokens = count_tokens(text)
        if tokens <= budget // 2:
            break
    if tokens > budget:
        return None
    for section in candidates:
        if limit is not None and len(chosen) >= limit:
            break
        if tokens + section.tokens <= budget + 8:  # near enough to count exactly
            trial = _compose(name, sections, {**chosen, section.index: section.text},
                             body_tokens, depth)
            trial_tokens = count_tokens(trial)
            if trial_tokens <= budget:
                chosen[section.index] = section.text
                text, tokens = trial, trial_tokens
                continue
        if trim:
            cut = trim_to(section, budget - tokens - 40)
            if cut is not None:
                piece = cut + "\n\n(The rest of this section did not fit the allowance.)"
                trial = _compose(name, sections, {**chosen, section.index: piece},
                                 body_tokens, depth)
                trial_tokens = count_tokens(trial)
                if trial_tokens <= budget:
                    chosen[section.index] = piece
                    text, tokens = trial, trial_tokens
                    continue
        if stop_at_first_misfit:
            break
    return Part(text, tokens, tuple(sections[i].slug for i in sorted(chosen)))


def for_match(name: str, body: str, body_tokens: int, request: str, budget: int) -> Part | None:
    """A matched skill too big for `budget`: outline and its best sections for `request`
    (the first section when none shares a word); None when not even the outline fits."""
    sections = parse_sections(body)
    ranked = [s for _, s in rank_sections(request, sections)]
    if not ranked and sections:
        ranked = [sections[0]]
    return _fit(name, sections, body_tokens, ranked, budget, stop_at_first_misfit=False,
                limit=MAX_MATCHED_SECTIONS)


def for_request(name: str, body: str, body_tokens: int, wanted: Sequence[str] | None,
                budget: int) -> Part | None:
    """A skill the user asked for that does not fit whole: the named sections (`wanted`
    slugs), or every section in order while they fit (`wanted` None)."""
    sections = parse_sections(body)
    if wanted is None:
        return _fit(name, sections, body_tokens, sections, budget, stop_at_first_misfit=True)
    picked = [s for s in sections if s.slug in set(wanted)]
    return _fit(name, sections, body_tokens, picked, budget, stop_at_first_misfit=False,
                trim=True)
