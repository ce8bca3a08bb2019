"""Requests as the concierge sees them: each user request (or swarm task) with the skills
loaded for it, what it cost, and what became of it (escalated, rated, validated).

A SkillLoaded event belongs to the turn of the next reply written in its session
(events are numbered in the order they happened, so clocks never matter); a rating or an
escalation names its reply, and a reply belongs to the request before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tokenopt_tui.store.concierge import (
    MessageRef,
    messages_since,
    outcome_events,
    reply_tokens,
)
from tokenopt_tui.store.queries import EventRow

#: Swarm verdicts that count as a failed validation (a Validator's retry, or the end).
FAILED_VERDICTS = frozenset({"retry", "failed", "stalled"})


@dataclass
class Request:
    """One request and its evidence."""

    message_id: int  # the user message (a swarm task: -swarm_id)
    session_id: int
    created_at: str
    text: str
    source: str = "chat"  # or "swarm"
    skills: list[str] = field(default_factory=list)
    replies: list[int] = field(default_factory=list)
    tokens: int = 0
    escalated: bool = False
    rated_bad: bool = False
    rated_good: bool = False
    failed_validation: bool = False

    @property
    def went_wrong(self) -> bool:
        """Escalated, rated bad or failed validation: the answer was found wanting."""
        return self.escalated or self.rated_bad or self.failed_validation

    def evidence(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "session_id": self.session_id,
                "date": self.created_at[:10], "text": self.text, "tokens": self.tokens,
                "skills": list(self.skills), "escalated": self.escalated,
                "rated_bad": self.rated_bad, "failed_validation": self.failed_validation}


async def load_requests(store: Any, since: str) -> list[Request]:
    """Every request made at or after `since` (UTC timestamp text), with its outcome."""
    messages = await messages_since(store, since)
    events = await outcome_events(store, since)
    tokens = await reply_tokens(store, since)
    requests, owner = _turns(messages)
    for reply_id, request in owner.items():
        request.tokens += tokens.get(reply_id, 0)
    _attach(events, requests, owner)
    return sorted(requests.values(), key=lambda r: (r.created_at, r.message_id))


def _turns(messages: list[MessageRef]) -> tuple[dict[int, Request], dict[int, Request]]:
    """Requests by message id, and each reply's request."""
    requests: dict[int, Request] = {}
    owner: dict[int, Request] = {}
    last: dict[int, Request] = {}
    for m in messages:
        if m.role == "user":
            last[m.session_id] = requests[m.id] = Request(m.id, m.session_id, m.created_at,
                                                          m.content)
        elif m.session_id in last:
            owner[m.id] = last[m.session_id]
            owner[m.id].replies.append(m.id)
    return requests, owner


def _attach(events: list[EventRow], requests: dict[int, Request],
            owner: dict[int, Request]) -> None:
    """Fold each event into its request."""
    pending: dict[int | None, list[str]] = {}  # skills loaded, awaiting their reply
    swarms: dict[int, Request] = {}
    for e in events:
        p = e.payload
        if e.kind == "SkillLoaded":
            pending.setdefault(e.session_id, []).append(str(p.get("skill_name", "")))
        elif e.kind == "ReplyCompleted":
            request = owner.get(int(p.get("message_id", 0)))
            loaded = pending.pop(e.session_id, [])
            if request is not None:
                request.skills.extend(s for s in loaded if s not in request.skills)
        elif e.kind in ("EscalationRequested", "ReplyRated"):
            request = owner.get(int(p.get("message_id", 0)))
            if request is None:
                continue
            if e.kind == "EscalationRequested":
                request.escalated = True
            elif p.get("good"):
                request.rated_good = True
            else:
                request.rated_bad = True
        elif e.kind == "SwarmPlanned" and e.session_id is not None:
            swarm_id = int(p.get("swarm_id", 0))
            swarms[swarm_id] = requests.setdefault(-swarm_id, Request(
                -swarm_id, e.session_id, e.created_at, str(p.get("task", "")), "swarm"))
        elif e.kind in ("SwarmPhaseEnded", "SwarmEnded"):
            request = swarms.get(int(p.get("swarm_id", 0)))
            if request is None:
                continue
            if e.kind == "SwarmPhaseEnded":
                request.tokens += int(p.get("tokens", 0))
            if str(p.get("verdict", "")) in FAILED_VERDICTS:
                request.failed_validation = True
