"""Replays tests/data/concierge/usage.jsonl into a real store through the store's own
API (sessions, messages, skill invocations, model calls, events as the session writes
them), then puts back each row's recorded time: the API stamps "now", and the
concierge's day window needs the log's dates."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tokenopt_tui.core.events import (
    EscalationRequested,
    ReplyCompleted,
    ReplyRated,
    SkillLoaded,
    SwarmEnded,
    SwarmPhaseEnded,
    SwarmPlanned,
)
from tokenopt_tui.store import Store

DATA = Path(__file__).parent / "data" / "concierge"
LOG = DATA / "usage.jsonl"
LABELS = DATA / "labels.json"
#: How long before the log's first request the user's first session was.
INSTALLED_DAYS = 40
#: The test's "now": a few days after the log's last request (2026-11-01).
NOW = "2026-11-05T12:00:00"


def read_log(path: Path = LOG) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def labels() -> dict[str, str]:
    return dict(json.loads(LABELS.read_text(encoding="utf-8"))["need"])


def held_out(request_id: str) -> bool:
    return int(request_id[1:]) % 3 == 0


class _Stamps:
    """Row ids written for one request, to be given its recorded time."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, int, str]] = []

    def add(self, table: str, row_id: int, at: str, column: str = "created_at") -> None:
        self.rows.append((table, column, row_id, at))


async def _reply(store: Store, sid: int, at: str, tokens: list[int], stamps: _Stamps,
                 text: str = "(answer)") -> int:
    reply = await store.add_message(sid, "assistant", "", tier=1, model="local")
    await store.finish_message(reply, text, tier=1, model="local", prompt_tokens=tokens[0],
                               completion_tokens=tokens[1], cost_usd=0.0)
    call = await store.record_model_call(
        sid, message_id=reply, tier=1, provider="mlx_local", endpoint=None, model="local",
        started_at=at, latency_ms=900.0, prompt_tokens=tokens[0],
        completion_tokens=tokens[1])
    event = await store.add_event(sid, "ReplyCompleted",
                                  ReplyCompleted(reply, "", False, 1, "local").stored_dict())
    stamps.add("messages", reply, at)
    stamps.add("model_calls", call, at, "started_at")
    stamps.add("events", event, at)
    return reply


def recent(rows: list[dict[str, Any]], days_ago: int = 4) -> list[dict[str, Any]]:
    """The log moved in time so that its last request was `days_ago` days ago."""
    last = max(datetime.fromisoformat(r["at"]) for r in rows)
    shift = datetime.now(UTC) - timedelta(days=days_ago) - last
    return [{**r, "at": (datetime.fromisoformat(r["at"]) + shift).strftime(
        "%Y-%m-%dT%H:%M:%SZ")} for r in rows]


async def load_log(store: Store, db_path: Path, rows: list[dict[str, Any]] | None = None
                   ) -> dict[str, int]:
    """Write every request of the log; return request id → user message id (a swarm
    task: minus its swarm id)."""
    sessions: dict[int, int] = {}
    ids: dict[str, int] = {}
    stamps = _Stamps()
    rows = rows if rows is not None else read_log()
    # The user's first session, long before the log (outside every window the tests
    # use): the store has recorded usage for longer than the window, so the concierge
    # judges unused skills (it withholds that judgement on a younger store).
    first = min(datetime.fromisoformat(r["at"]) for r in rows) - timedelta(days=INSTALLED_DAYS)
    hello = await store.create_session("direct_chat")
    at = first.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    stamps.add("sessions", hello, at)
    stamps.add("messages", await store.add_message(hello, "user", "hello"), at)
    for n, row in enumerate(rows, 1):
        at = row["at"].replace("Z", ".000Z")
        if row["session"] not in sessions:
            sid = sessions[row["session"]] = await store.create_session("direct_chat")
            stamps.add("sessions", sid, at)
        sid = sessions[row["session"]]
        if "swarm" in row:
            planned = SwarmPlanned(n, row["text"], 9000, 3000, 4000, 2000, "3 roles ≈ 9k")
            stamps.add("events", await store.add_event(sid, planned.kind,
                                                      planned.stored_dict()), at)
            verdict = "failed" if row["swarm"] == "failed" else "pass"
            for role, tokens, said in (("explorer", row["tokens"][0], "done"),
                                       ("worker", row["tokens"][1], "done"),
                                       ("validator", 500, verdict)):
                ended = SwarmPhaseEnded(n, role, 1, "analyst", 1, tokens, 0.0, said, "")
                stamps.add("events", await store.add_event(sid, ended.kind,
                                                          ended.stored_dict()), at)
            end = SwarmEnded(n, verdict, 9000, sum(row["tokens"]) + 500, 1, "")
            stamps.add("events", await store.add_event(sid, end.kind, end.stored_dict()), at)
            ids[row["id"]] = -n
            continue
        request = await store.add_message(sid, "user", row["text"])
        stamps.add("messages", request, at)
        ids[row["id"]] = request
        for name, score in row["skills"]:
            stamps.add("skill_invocations",
                       await store.record_skill_invocation(sid, name, 400, score, 2.0), at)
            loaded = SkillLoaded(name, 400, score, "matched its tags")
            stamps.add("events", await store.add_event(sid, loaded.kind,
                                                      loaded.stored_dict()), at)
        reply = await _reply(store, sid, at, row["tokens"], stamps)
        if "escalated" in row["after"]:
            up = EscalationRequested(reply, 1, 2)
            stamps.add("events", await store.add_event(sid, up.kind, up.stored_dict()), at)
            for name, score in row["skills"]:  # the retry loads its skills again
                loaded = SkillLoaded(name, 400, score, "matched its tags")
                stamps.add("events", await store.add_event(sid, loaded.kind,
                                                          loaded.stored_dict()), at)
            reply = await _reply(store, sid, at, row["tokens"], stamps)
        for verdict in ("good", "bad"):
            if verdict in row["after"]:
                rated = ReplyRated(reply, verdict == "good")
                stamps.add("events", await store.add_event(sid, rated.kind,
                                                          rated.stored_dict()), at)
    with sqlite3.connect(db_path) as conn:  # the recorded times (see the module doc)
        for table, column, row_id, at in stamps.rows:
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (at, row_id))
    return ids
