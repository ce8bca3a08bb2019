"""A stored session as Markdown (to read or share) or JSON (to process).

Both carry the session's figures (tokens, cost, tiers), every message with its tier,
model and tokens, and its events (routing, budget, compaction, skills). Nothing else
is in the store to leak: keys never reach it.
"""

from __future__ import annotations

import json
from typing import Any

from tokenopt_tui.store import HistoryRow, MessageRow, Store

FORMATS = ("md", "json")


def history_dict(row: HistoryRow) -> dict[str, Any]:
    """A session's figures as the history list has them (what to_markdown heads with)."""
    return {"id": row.id, "type": row.type, "title": row.title, "created_at": row.created_at,
            "status": row.status, "turns": row.turns, "tokens_used": row.tokens_used,
            "cost_usd": row.cost_usd, "tiers": list(row.tiers)}


def message_dict(m: MessageRow) -> dict[str, Any]:
    return {"id": m.id, "role": m.role, "content": m.content, "created_at": m.created_at,
            "tier": m.tier, "model": m.model, "prompt_tokens": m.prompt_tokens,
            "completion_tokens": m.completion_tokens, "cost_usd": m.cost_usd,
            "interrupted": m.interrupted}


async def session_data(store: Store, session_id: int) -> dict[str, Any]:
    row = await store.get_session(session_id)
    if row is None:
        raise LookupError(f"no session {session_id}")
    [history] = await store.history(session_ids=[session_id])
    messages = await store.session_messages(session_id)
    events = await store.session_events(session_id)
    return {
        "session": {**history_dict(history), "ended_at": row.ended_at, "model": row.model},
        "messages": [message_dict(m) for m in messages],
        "events": [{"created_at": e.created_at, "kind": e.kind, **{
            k: v for k, v in e.payload.items() if k != "kind"}} for e in events],
    }


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def event_line(event: dict[str, Any]) -> str | None:
    """One timeline line for an event worth showing (None for per-reply bookkeeping)."""
    kind = event["kind"]
    if kind == "TierChosen":
        return f"tier {event['tier']} ({event['model']}): {'; '.join(event['reasons'])}"
    if kind == "TierFailed":
        return f"tier {event['tier']} ({event['model']}) failed: {event['fault']}"
    if kind == "BudgetWarned":
        return f"budget {event['percent']}% reached ({event['used']:,} of {event['limit']:,})"
    if kind == "ContextCompacted":
        return (f"context compacted ({event['trigger']}): {event['tokens_before']:,} → "
                f"{event['tokens_after']:,} tokens")
    if kind == "SkillLoaded":
        return f"skill {event['skill_name']} loaded ({event['tokens']:,} tokens)"
    if kind == "SessionHalted":
        return f"session halted at {event['used']:,} of {event['limit']:,} tokens"
    if kind in ("PaidEscalated", "ErrorOccurred", "ContentReferenced"):
        detail = event.get("reason") or event.get("message") or event.get("message_id")
        return f"{kind}: {detail}"
    return None


def to_markdown(data: dict[str, Any]) -> str:
    s = data["session"]
    tiers = ", ".join(f"T{t}" for t in s["tiers"]) or "none"
    lines = [f"# {s['title'] or 'Session ' + str(s['id'])}", "",
             f"- session {s['id']} ({s['type']}, {s['status']}), started {s['created_at']}",
             f"- {s['turns']} turns, {s['tokens_used']:,} tokens, ${s['cost_usd']:.4f}, "
             f"tiers used: {tiers}", ""]
    for m in data["messages"]:
        who = {"user": "You", "assistant": "Assistant", "system": "System"}.get(
            m["role"], m["role"])
        meta = []
        if m["tier"] is not None:
            meta.append(f"T{m['tier']} {m['model']}")
        if m["completion_tokens"]:
            meta.append(f"{m['completion_tokens']:,} tokens")
        if m["interrupted"]:
            meta.append("interrupted")
        suffix = f" ({', '.join(meta)})" if meta else ""
        lines += [f"## {who}{suffix}", "", m["content"], ""]
    timeline = [(e["created_at"], line) for e in data["events"]
                if (line := event_line(e)) is not None]
    if timeline:
        lines += ["## Timeline", ""] + [f"- {at}: {line}" for at, line in timeline] + [""]
    return "\n".join(lines)
