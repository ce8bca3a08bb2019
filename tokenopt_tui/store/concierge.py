"""The concierge's read queries: requests, the events that tell what became of them,
what each reply cost and when each skill was last loaded.

Plain reads through `QueryPrimitives.read` (SELECT only), so the concierge never needs
a write path; each query is bounded by `since` and uses the existing indexes
(messages by time, events by kind and time, model calls by message).
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenopt_tui.store.queries import EventRow, QueryPrimitives, _event_rows

#: The event kinds that say what became of a request (the swarm's may not exist yet).
OUTCOME_KINDS = ("SkillLoaded", "ReplyCompleted", "EscalationRequested", "ReplyRated",
                 "SwarmPlanned", "SwarmPhaseEnded", "SwarmEnded")


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A message without its figures: enough to place it in its turn."""

    id: int
    session_id: int
    role: str
    content: str
    created_at: str


@dataclass(frozen=True, slots=True)
class SkillUse:
    """How often a skill was loaded since the window began, and when it last was."""

    name: str
    loads: int
    tokens: int
    last_at: str | None


async def messages_since(store: QueryPrimitives, since: str) -> list[MessageRef]:
    """User and assistant messages written at or after `since`, by id (user requests
    carry their text; replies only their place)."""
    rows = await store.read(
        "concierge.messages_since",
        "SELECT id, session_id, role, CASE WHEN role = 'user' THEN content ELSE '' END, "
        "created_at FROM messages WHERE created_at >= ? AND role IN ('user', 'assistant') "
        "ORDER BY id", (since,))
    return [MessageRef(int(i), int(s), str(r), str(c), str(t)) for i, s, r, c, t in rows]


async def outcome_events(store: QueryPrimitives, since: str) -> list[EventRow]:
    """Events of OUTCOME_KINDS at or after `since`, in the order they were written."""
    marks = ", ".join("?" for _ in OUTCOME_KINDS)
    op = "concierge.outcome_events"
    rows = await store.read(
        op, "SELECT id, session_id, created_at, kind, payload FROM events "
        f"WHERE kind IN ({marks}) AND created_at >= ? ORDER BY id", (*OUTCOME_KINDS, since))
    return _event_rows(op, rows)


async def reply_tokens(store: QueryPrimitives, since: str) -> dict[int, int]:
    """Reply message id → prompt+completion tokens of the model calls that made it."""
    rows = await store.read(
        "concierge.reply_tokens",
        "SELECT message_id, SUM(prompt_tokens + completion_tokens) FROM model_calls "
        "WHERE started_at >= ? AND message_id IS NOT NULL GROUP BY message_id", (since,))
    return {int(m): int(t) for m, t in rows}


async def skill_uses(store: QueryPrimitives, since: str) -> dict[str, SkillUse]:
    """Every skill ever loaded: its loads and tokens since `since`, and its last load."""
    rows = await store.read(
        "concierge.skill_uses",
        "SELECT skill_name, SUM(created_at >= ?), SUM(CASE WHEN created_at >= ? "
        "THEN tokens_used ELSE 0 END), MAX(created_at) FROM skill_invocations "
        "GROUP BY skill_name", (since, since))
    return {str(n): SkillUse(str(n), int(c or 0), int(t or 0), None if last is None
                             else str(last)) for n, c, t, last in rows}


async def first_request_at(store: QueryPrimitives) -> str | None:
    """When the oldest stored user request was made (None in an empty store): a skill
    can only have gone unused for N days if usage has been recorded for N days."""
    rows = await store.read("concierge.first_request_at",
                            "SELECT MIN(created_at) FROM messages WHERE role = 'user'", ())
    return str(rows[0][0]) if rows and rows[0][0] is not None else None
