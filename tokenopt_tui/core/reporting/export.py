"""A stored session as Markdown (to read or share) or JSON (to process).

Both carry the session's figures (tokens, cost, tiers), every message with its tier,
model and tokens, and its events (routing, budget, compaction, skills).

Everything in a session came from a user, a model or a provider: the Markdown is
passed whole through `terminal_safe` (it is often printed), the JSON is written by
`json_dumps_safe`, and `session_data` scrubs configured keys out of every string
when given `secrets` (rows stored before providers' errors were scrubbed may hold one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tokenopt_tui.core.presenter import stored_timeline_line
from tokenopt_tui.core.reporting.swarm_units import fold_swarms, timeline
from tokenopt_tui.core.secrets import Secrets
from tokenopt_tui.core.text import json_dumps_safe, terminal_safe
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


def scrub_strings(value: Any, scrub: Callable[[str], str]) -> Any:
    """`value` with `scrub` applied to every string in it (keys too), at any depth."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_strings(k, scrub): scrub_strings(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_strings(v, scrub) for v in value]
    return value


async def session_data(store: Store, session_id: int,
                       secrets: Secrets | None = None) -> dict[str, Any]:
    """The session, its messages and events; with `secrets` (`Services.secrets`) every
    string is scrubbed of the configured keys."""
    row = await store.get_session(session_id)
    if row is None:
        raise LookupError(f"no session {session_id}")
    [history] = await store.history(session_ids=[session_id])
    messages = await store.session_messages(session_id)
    events = await store.session_events(session_id)
    data = {
        "session": {**history_dict(history), "ended_at": row.ended_at, "model": row.model},
        "messages": [message_dict(m) for m in messages],
        "events": [{"created_at": e.created_at, "kind": e.kind, **{
            k: v for k, v in e.payload.items() if k != "kind"}} for e in events],
        # Each swarm cycle as one unit with its phases (folded from the events above).
        "swarms": [u.to_dict() for u in fold_swarms((e.kind, e.payload) for e in events)],
    }
    return data if secrets is None else scrub_strings(data, secrets.scrub)


def to_json(data: dict[str, Any]) -> str:
    """Readable JSON with every control character escaped (C1 and U+2028/9 included)."""
    return json_dumps_safe(data)


def event_line(event: dict[str, Any]) -> str | None:
    """One timeline line for a stored event (`{"kind": …, **payload}`; None for per-reply
    bookkeeping or a row this version cannot read), worded by the presenter and made
    terminal-safe (model names, reasons and errors come from outside)."""
    line = stored_timeline_line(str(event.get("kind", "")), event)
    return None if line is None else terminal_safe(line)


def to_markdown(data: dict[str, Any]) -> str:
    """The session as Markdown, terminal-safe as a whole: no string in it can act as an
    escape sequence when the file is printed (only newlines and tabs are kept)."""
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
    # A swarm cycle is one entry (task, verdict, tokens) with its phases nested under it.
    entries = timeline((str(e.get("created_at", "")), str(e.get("kind", "")), e)
                       for e in data["events"])
    if entries:
        lines += ["## Timeline", ""] + [f"- {at}: {text}".replace("\n  ", "\n  - ")
                                        for at, text in entries] + [""]
    return terminal_safe("\n".join(lines))
