"""A swarm cycle as one unit: its stored events folded into task, verdict, tokens and
phases, and the words for them.

The cycle stores one row per fact in the parent session (SwarmPlanned, SwarmPhaseStarted,
SwarmPhaseEnded, SwarmEnded). Read one per line they scatter a cycle across a timeline; a
reader wants "this task, this verdict, these tokens of that reservation" with its phases
under it. The chat's parts, the history timeline and exports all word a phase through
`phase_title`, so a phase reads the same live and afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tokenopt_tui.core.events import (
    Event,
    SwarmEnded,
    SwarmPhaseEnded,
    SwarmPhaseStarted,
    SwarmPlanned,
    decode_event,
)
from tokenopt_tui.core.presenter import stored_timeline_line
from tokenopt_tui.core.text import one_line

#: The kinds folded into a unit (everything the cycle stores).
SWARM_KINDS: frozenset[str] = frozenset({"SwarmPlanned", "SwarmPhaseStarted",
                                         "SwarmPhaseEnded", "SwarmEnded"})
#: Longest task shown in a unit's heading (the whole task is in the JSON export).
TASK_CHARS = 80


def default_tier_label(tier: int) -> str:
    """"T2": a tier where its configured name is not known (history, exports)."""
    return f"T{tier}"


@dataclass
class SwarmPhase:
    """One role's run: who ran it where, and (once ended) its tokens and verdict."""

    role: str
    attempt: int
    agent: str
    tier: int
    session_id: int | None = None
    budget: int = 0
    tokens: int | None = None
    cost_usd: float = 0.0
    verdict: str | None = None  # None: still running (or the cycle stopped before its end)
    reasons: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "attempt": self.attempt, "agent": self.agent,
                "tier": self.tier, "session_id": self.session_id, "budget": self.budget,
                "tokens": self.tokens, "cost_usd": self.cost_usd, "verdict": self.verdict,
                "reasons": self.reasons}


@dataclass
class SwarmUnit:
    """One cycle: plan, phases in order, and its end (None while it has none)."""

    swarm_id: int
    task: str = ""
    estimate: str = ""
    reserved_tokens: int = 0
    verdict: str | None = None
    used_tokens: int | None = None
    attempts: int = 0
    phases: list[SwarmPhase] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"swarm_id": self.swarm_id, "task": self.task, "estimate": self.estimate,
                "reserved_tokens": self.reserved_tokens, "verdict": self.verdict,
                "used_tokens": self.used_tokens, "attempts": self.attempts,
                "phases": [p.to_dict() for p in self.phases]}


def phase_title(role: str, attempt: int, agent: str, tier: str, tokens: int | None,
                verdict: str | None) -> str:
    """"worker · attempt 2 · devops · T1 gemma · 1,234 tokens · pass": a phase in one line
    (a running phase says so instead of tokens and verdict)."""
    parts = [role]
    if attempt > 1:
        parts.append(f"attempt {attempt}")
    parts += [agent, tier]
    if verdict is None:
        parts.append("running…")
    else:
        if tokens is not None:
            parts.append(f"{tokens:,} tokens")
        parts.append(verdict)
    return " · ".join(p for p in parts if p)


def unit_heading(unit: SwarmUnit) -> str:
    """"swarm #3 pass: "task" · 4,210 of 9,000 reserved tokens · 2 attempts"."""
    task = one_line(unit.task, TASK_CHARS)
    if unit.verdict is None:
        return (f"swarm #{unit.swarm_id} did not end: \"{task}\" · "
                f"{unit.reserved_tokens:,} tokens reserved")
    attempts = f"{unit.attempts} attempt" + ("" if unit.attempts == 1 else "s")
    return (f"swarm #{unit.swarm_id} {unit.verdict}: \"{task}\" · {unit.used_tokens or 0:,} "
            f"of {unit.reserved_tokens:,} reserved tokens · {attempts}")


def unit_lines(unit: SwarmUnit,
               tier_label: Callable[[int], str] = default_tier_label) -> list[str]:
    """The unit's heading, then one indented line per phase (with its reasons)."""
    lines = [unit_heading(unit)]
    for p in unit.phases:
        title = phase_title(p.role, p.attempt, p.agent, tier_label(p.tier), p.tokens,
                            p.verdict)
        why = f": {one_line(p.reasons, 120)}" if p.reasons else ""
        lines.append(f"  {title}{why}")
    return lines


class _Folder:
    """Builds units from events in stored order (one dispatch per event type)."""

    def __init__(self) -> None:
        self.units: dict[int, SwarmUnit] = {}

    def unit(self, swarm_id: int) -> SwarmUnit:
        return self.units.setdefault(swarm_id, SwarmUnit(swarm_id))

    def planned(self, event: SwarmPlanned) -> int:
        unit = self.unit(event.swarm_id)
        unit.task, unit.estimate = event.task, event.estimate
        unit.reserved_tokens = event.reserved_tokens
        return event.swarm_id

    def started(self, event: SwarmPhaseStarted) -> int:
        self.unit(event.swarm_id).phases.append(SwarmPhase(
            event.role, event.attempt, event.agent, event.tier, event.session_id,
            event.budget))
        return event.swarm_id

    def ended_phase(self, event: SwarmPhaseEnded) -> int:
        unit = self.unit(event.swarm_id)
        phase = next((p for p in reversed(unit.phases)
                      if (p.role, p.attempt) == (event.role, event.attempt)), None)
        if phase is None:  # its start was not stored (an older row): the end says enough
            phase = SwarmPhase(event.role, event.attempt, event.agent, event.tier)
            unit.phases.append(phase)
        phase.tokens, phase.cost_usd = event.tokens, event.cost_usd
        phase.verdict, phase.reasons = event.verdict, event.reasons
        return event.swarm_id

    def ended(self, event: SwarmEnded) -> int:
        unit = self.unit(event.swarm_id)
        unit.verdict, unit.used_tokens = event.verdict, event.used_tokens
        unit.attempts = event.attempts
        unit.reserved_tokens = unit.reserved_tokens or event.reserved_tokens
        return event.swarm_id

    def add(self, event: Event) -> int | None:
        """Fold `event` in; its swarm id (None: not a swarm event)."""
        fold = _FOLD.get(type(event))
        if fold is None:
            return None
        return fold(self, event)


_FOLD: dict[type[Event], Callable[[_Folder, Any], int]] = {
    SwarmPlanned: _Folder.planned, SwarmPhaseStarted: _Folder.started,
    SwarmPhaseEnded: _Folder.ended_phase, SwarmEnded: _Folder.ended,
}


def fold_swarms(rows: Iterable[tuple[str, Mapping[str, Any]]]) -> list[SwarmUnit]:
    """The swarm units in stored (kind, payload) rows, in the order they started."""
    folder = _Folder()
    for kind, payload in rows:
        if kind in SWARM_KINDS and (event := decode_event(kind, dict(payload))) is not None:
            folder.add(event)
    return list(folder.units.values())


def timeline(rows: Iterable[tuple[str, str, Mapping[str, Any]]],
             tier_label: Callable[[int], str] = default_tier_label) -> list[tuple[str, str]]:
    """(created_at, text) for a timeline: each swarm cycle once, as its unit's lines, where
    its first event was; any other row as the presenter's timeline line."""
    entries: list[tuple[str, str | int]] = []  # text, or the swarm id to fill in
    folder = _Folder()
    seen: set[int] = set()
    for created_at, kind, payload in rows:
        if kind in SWARM_KINDS:
            event = decode_event(kind, dict(payload))
            swarm_id = None if event is None else folder.add(event)
            if swarm_id is not None and swarm_id not in seen:
                seen.add(swarm_id)
                entries.append((created_at, swarm_id))
        elif (line := stored_timeline_line(kind, payload)) is not None:
            entries.append((created_at, line))
    return [(at, "\n".join(unit_lines(folder.units[item], tier_label))
             if isinstance(item, int) else item) for at, item in entries]
