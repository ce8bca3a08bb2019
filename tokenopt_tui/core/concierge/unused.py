"""Skills that do not earn their place: never loaded in the window (deprecation
candidates), or loaded but never useful.

"Never useful" is strict on purpose: a skill loaded for at least `min_loads` requests
in the window, every one of them escalated, rated bad or failed validation, and none
rated good. A request with no feedback at all counts as fine (most people never rate),
so a skill is only named when every signal the user gave was negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tokenopt_tui.core.concierge.usage import Request
from tokenopt_tui.store.concierge import SkillUse

MIN_LOADS = 2


@dataclass(frozen=True)
class UnusedSkill:
    """A library skill with no load in the window."""

    name: str
    source: str
    last_loaded: str | None
    body_tokens: int | None  # what one wrong load would cost; None if unreadable

    def to_dict(self, days: int) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "loads": 0, "days": days,
                "last_loaded": self.last_loaded, "body_tokens": self.body_tokens,
                "metadata_tokens_per_request": 0}


@dataclass(frozen=True)
class UselessSkill:
    """A skill whose every load was followed by a sign the answer was wanting."""

    name: str
    requests: tuple[Request, ...]

    @property
    def tokens(self) -> int:
        return sum(r.tokens for r in self.requests)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "loads": len(self.requests), "tokens": self.tokens,
                "evidence": [r.evidence() for r in self.requests]}


def unused_skills(library: Iterable[Any], uses: Mapping[str, SkillUse],
                  body_tokens: Mapping[str, int | None]) -> list[UnusedSkill]:
    """Skills of the library (`Skill` objects) with no load since the window began."""
    out = []
    for skill in library:
        use = uses.get(skill.name)
        if use is None or use.loads == 0:
            out.append(UnusedSkill(skill.name, str(skill.source),
                                   use.last_at if use else None, body_tokens.get(skill.name)))
    return sorted(out, key=lambda u: u.name)


def useless_skills(requests: Sequence[Request], min_loads: int = MIN_LOADS
                   ) -> list[UselessSkill]:
    """Skills loaded for ≥ `min_loads` requests, all of them found wanting."""
    by_skill: dict[str, list[Request]] = {}
    for request in requests:
        for name in request.skills:
            by_skill.setdefault(name, []).append(request)
    return sorted((UselessSkill(name, tuple(rs)) for name, rs in by_skill.items()
                   if len(rs) >= min_loads and all(r.went_wrong and not r.rated_good
                                                   for r in rs)),
                  key=lambda u: (-u.tokens, u.name))
