"""Row types, SQL and the query methods of the store (model calls and skill loads:
accounting.py).

The plumbing (connection, lock, transactions, error wrapping) lives in db.py; the
methods here only say what to read or write, so each stays a few lines long.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tokenopt_tui.store.errors import StoreError

SqlParam = str | int | float | bytes | None

_SESSION_COLUMNS = "id, type, title, created_at, ended_at, status, model, tokens_used, cost_usd"
_MESSAGE_COLUMNS = (
    "m.id, m.session_id, m.role, m.content, m.created_at, m.tier, m.model, "
    "m.prompt_tokens, m.completion_tokens, m.cost_usd, m.estimated, m.interrupted"
)


def utc_timestamp(moment: datetime | None = None) -> str:
    """Format a time as '2026-11-24T10:15:30.123Z' (UTC, ms), which SQLite's DATE() reads.

    Naive datetimes are taken as local time, as datetime.astimezone() does.
    """
    utc = (moment or datetime.now(UTC)).astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{utc.microsecond // 1000:03d}Z"


def parse_utc_timestamp(text: str) -> datetime:
    """The inverse of `utc_timestamp`: a stored UTC time ('…Z') as an aware datetime."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def fts_query(text: str) -> str | None:
    """Turn user text into a safe FTS5 query: every word a quoted phrase, all ANDed.

    Quoting means FTS5 syntax in the input (`"`, `OR`, `(`, `NEAR(`, `:`) is just
    text and can never raise; a trailing `*` on a word is kept as a prefix search.
    Returns None when there is nothing to search for.
    """
    phrases: list[str] = []
    for word in text.split():
        prefix = word.endswith("*") and word.rstrip("*") != ""
        core = word.rstrip("*") if prefix else word
        phrase = '"' + core.replace('"', '""') + '"'
        phrases.append(phrase + "*" if prefix else phrase)
    return " ".join(phrases) or None


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One row of `sessions`."""

    id: int
    type: str
    title: str | None
    created_at: str
    ended_at: str | None
    status: str
    model: str | None
    tokens_used: int
    cost_usd: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> SessionRow:
        return cls(*row)


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One row of `messages`; token and cost fields are None until the reply finishes."""

    id: int
    session_id: int
    role: str
    content: str
    created_at: str
    tier: int | None
    model: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    estimated: bool
    interrupted: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> MessageRow:
        (message_id, session_id, role, content, created_at, tier, model, prompt_tokens,
         completion_tokens, cost_usd, estimated, interrupted) = row
        return cls(message_id, session_id, role, content, created_at, tier, model,
                   prompt_tokens, completion_tokens, cost_usd, bool(estimated),
                   bool(interrupted))


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One session as the history list shows it."""

    id: int
    type: str
    title: str | None
    created_at: str
    status: str
    turns: int
    tokens_used: int
    cost_usd: float
    tiers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class EventRow:
    """One row of `events`, with its JSON payload decoded."""

    id: int
    session_id: int | None
    created_at: str
    kind: str
    payload: dict[str, Any]


def _event_rows(op: str, rows: Sequence[sqlite3.Row]) -> list[EventRow]:
    """Decode (id, session_id, created_at, kind, payload) rows; a corrupt payload is a
    StoreError naming the event."""
    events: list[EventRow] = []
    for event_id, sid, created_at, kind, payload in rows:
        try:
            decoded = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise StoreError(f"{op}: event {event_id} has a corrupt payload") from exc
        events.append(EventRow(event_id, sid, created_at, kind, decoded))
    return events


class QueryPrimitives:
    """The four primitives db.Store supplies, and `read`; query mixins build on them."""

    async def _insert(self, op: str, sql: str, params: Sequence[SqlParam] = ()) -> int:
        """Run one INSERT and return its rowid."""
        raise NotImplementedError

    async def _update(self, op: str, sql: str, params: Sequence[SqlParam] = ()) -> int:
        """Run one UPDATE/DELETE and return the number of rows changed."""
        raise NotImplementedError

    async def _fetchall(
        self, op: str, sql: str, params: Sequence[SqlParam] = ()
    ) -> list[sqlite3.Row]:
        """Run one SELECT and return every row."""
        raise NotImplementedError

    def transaction(self, op: str = "transaction") -> AbstractAsyncContextManager[None]:
        """BEGIN IMMEDIATE … COMMIT around a block; ROLLBACK on any exception."""
        raise NotImplementedError

    async def read(self, op: str, sql: str, params: Sequence[SqlParam] = ()
                   ) -> list[sqlite3.Row]:
        """A read-only aggregate for the metrics module (its SQL lives there)."""
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            raise StoreError(f"{op}: only SELECT statements may be read")
        return await self._fetchall(op, sql, params)


class StoreQueries(QueryPrimitives):
    """Sessions, messages, events and cooldowns (accounting lives in accounting.py)."""

    # -- sessions -------------------------------------------------------------------

    async def create_session(self, session_type: str, title: str | None = None) -> int:
        """Start a session ('direct_chat', 'cron_job' or 'sub_agent'); return its id."""
        return await self._insert(
            f"create_session({session_type!r})",
            "INSERT INTO sessions (type, title, created_at) VALUES (?, ?, ?)",
            (session_type, title, utc_timestamp()),
        )

    async def end_session(self, session_id: int, status: str = "ended") -> None:
        """Mark a session finished; raise if it does not exist (a caller bug)."""
        op = f"end_session({session_id})"
        changed = await self._update(
            op,
            "UPDATE sessions SET ended_at = ?, status = ? WHERE id = ?",
            (utc_timestamp(), status, session_id),
        )
        if not changed:
            raise StoreError(f"{op}: no such session")

    async def set_session_title(self, session_id: int, title: str) -> None:
        """Name a session (the first request's first words, or the user's choice)."""
        op = f"set_session_title({session_id})"
        if not await self._update(op, "UPDATE sessions SET title = ? WHERE id = ?",
                                  (title, session_id)):
            raise StoreError(f"{op}: no such session")

    async def get_session(self, session_id: int) -> SessionRow | None:
        """The session row, or None if there is no such session."""
        rows = await self._fetchall(
            f"get_session({session_id})",
            f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?",
            (session_id,),
        )
        return SessionRow.from_row(rows[0]) if rows else None

    async def list_sessions(self, limit: int = 100) -> list[SessionRow]:
        """Most recent sessions first, for the history screen."""
        rows = await self._fetchall(
            "list_sessions",
            f"SELECT {_SESSION_COLUMNS} FROM sessions ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [SessionRow.from_row(row) for row in rows]

    async def latest_session_id(self) -> int | None:
        """The newest session's id (what "continue the latest session" opens), or None.
        A swarm role's session (one with a parent) is never it: continuing means the
        conversation the user had, not the sub-agent it started."""
        rows = await self._fetchall("latest_session_id",
                                    "SELECT id FROM sessions WHERE parent_id IS NULL "
                                    "ORDER BY id DESC LIMIT 1")
        return int(rows[0][0]) if rows else None

    async def history(self, limit: int = 200, offset: int = 0,
                      session_ids: Sequence[int] | None = None,
                      include_empty: bool = True) -> list[HistoryRow]:
        """Sessions newest first with their turns and tiers used (or just `session_ids`,
        in that order); `include_empty=False` leaves out sessions with no message (a
        chat opened and closed). A swarm role's session is listed only when asked for by
        id (a search hit): the list shows its parent, where the cycle is one unit. Each
        figure is an indexed subquery, so a page costs the same with 10 or 10,000
        sessions."""
        where, params = "WHERE s.parent_id IS NULL", [limit, offset]
        if not include_empty:
            where += " AND EXISTS (SELECT 1 FROM messages AS e WHERE e.session_id = s.id)"
        if session_ids is not None:
            if not session_ids:
                return []
            marks = ", ".join("?" for _ in session_ids)
            where, params = f"WHERE s.id IN ({marks})", [*session_ids, len(session_ids), 0]
        rows = await self._fetchall(
            "history",
            "SELECT s.id, s.type, s.title, s.created_at, s.status, "
            "(SELECT COUNT(*) FROM messages AS m WHERE m.session_id = s.id "
            " AND m.role = 'user'), s.tokens_used, s.cost_usd, "
            "(SELECT GROUP_CONCAT(DISTINCT c.tier) FROM model_calls AS c "
            " WHERE c.session_id = s.id AND c.error IS NULL) "
            f"FROM sessions AS s {where} ORDER BY s.id DESC LIMIT ? OFFSET ?",
            params,
        )
        out = [HistoryRow(sid, stype, title, created, status, int(turns), int(tokens),
                          float(cost), tuple(sorted(int(t) for t in (tiers or "").split(",")
                                                    if t)))
               for sid, stype, title, created, status, turns, tokens, cost, tiers in rows]
        if session_ids is not None:
            order = {sid: i for i, sid in enumerate(session_ids)}
            out.sort(key=lambda r: order[r.id])
        return out

    async def search_sessions(self, query: str, limit: int = 100) -> list[int]:
        """Sessions whose messages match `query` (FTS5), the most recent match first.

        Newest first is what a history list wants, and it lets SQLite stop after
        `limit` sessions instead of ranking every match (a common word: 67k matches,
        178 ms ranked, under 1 ms this way, on 200k messages)."""
        match = fts_query(query)
        if match is None:
            return []
        rows = await self._fetchall(
            f"search_sessions({query[:40]!r})",
            "SELECT DISTINCT m.session_id FROM messages_fts "
            "JOIN messages AS m ON m.id = messages_fts.rowid WHERE messages_fts MATCH ? "
            "ORDER BY messages_fts.rowid DESC LIMIT ?",
            (match, limit),
        )
        return [int(r[0]) for r in rows]

    async def delete_session(self, session_id: int) -> None:
        """Delete a session and everything in it (messages, calls, events, skill loads)."""
        op = f"delete_session({session_id})"
        if not await self._update(op, "DELETE FROM sessions WHERE id = ?", (session_id,)):
            raise StoreError(f"{op}: no such session")

    async def session_tokens(self, session_id: int) -> int:
        """Prompt+completion tokens spent so far in the session (for budget checks)."""
        op = f"session_tokens({session_id})"
        rows = await self._fetchall(
            op, "SELECT tokens_used FROM sessions WHERE id = ?", (session_id,)
        )
        if not rows:
            raise StoreError(f"{op}: no such session")
        return int(rows[0][0])

    async def spent_today_usd(self) -> float:
        """Dollars spent on model calls since midnight UTC (the paid tier's daily cap)."""
        midnight = utc_timestamp().split("T", 1)[0] + "T00:00:00.000Z"
        rows = await self._fetchall(
            "spent_today_usd",
            "SELECT COALESCE(SUM(cost_usd), 0) FROM model_calls WHERE started_at >= ?",
            (midnight,),
        )
        return float(rows[0][0])

    # -- messages -------------------------------------------------------------------

    async def add_message(
        self,
        session_id: int,
        role: str,
        content: str,
        *,
        tier: int | None = None,
        model: str | None = None,
        interrupted: bool = False,
    ) -> int:
        """Append a message (an assistant reply starts empty and grows); return its id."""
        return await self._insert(
            f"add_message(session {session_id}, {role!r})",
            "INSERT INTO messages (session_id, role, content, created_at, tier, model, "
            "interrupted) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session_id, role, content, utc_timestamp(), tier, model, int(interrupted)),
        )

    async def update_message_content(self, message_id: int, content: str) -> None:
        """Save the reply so far; one autocommit UPDATE, durable when this returns.

        Called every ~0.5 s while streaming so a crash loses at most that much text.
        """
        op = f"update_message_content({message_id})"
        changed = await self._update(
            op, "UPDATE messages SET content = ? WHERE id = ?", (content, message_id)
        )
        if not changed:
            raise StoreError(f"{op}: no such message")

    async def finish_message(
        self,
        message_id: int,
        content: str,
        *,
        tier: int | None,
        model: str | None,
        prompt_tokens: int | None,
        completion_tokens: int | None,
        cost_usd: float | None,
        estimated: bool = False,
        interrupted: bool = False,
    ) -> None:
        """Write the final text and its accounting in one statement."""
        op = f"finish_message({message_id})"
        changed = await self._update(
            op,
            "UPDATE messages SET content = ?, tier = ?, model = ?, prompt_tokens = ?, "
            "completion_tokens = ?, cost_usd = ?, estimated = ?, interrupted = ? "
            "WHERE id = ?",
            (
                content,
                tier,
                model,
                prompt_tokens,
                completion_tokens,
                cost_usd,
                int(estimated),
                int(interrupted),
                message_id,
            ),
        )
        if not changed:
            raise StoreError(f"{op}: no such message")

    async def session_messages(self, session_id: int,
                               last: int | None = None) -> list[MessageRow]:
        """Every message of the session (or only its `last` ones), oldest first."""
        if last is None:
            rows = await self._fetchall(
                f"session_messages({session_id})",
                f"SELECT {_MESSAGE_COLUMNS} FROM messages AS m WHERE m.session_id = ? "
                "ORDER BY m.id",
                (session_id,),
            )
        else:
            rows = (await self._fetchall(
                f"session_messages({session_id}, last={last})",
                f"SELECT {_MESSAGE_COLUMNS} FROM messages AS m WHERE m.session_id = ? "
                "ORDER BY m.id DESC LIMIT ?",
                (session_id, last),
            ))[::-1]
        return [MessageRow.from_row(row) for row in rows]

    async def message_count(self, session_id: int) -> int:
        rows = await self._fetchall(f"message_count({session_id})",
                                    "SELECT COUNT(*) FROM messages WHERE session_id = ?",
                                    (session_id,))
        return int(rows[0][0])

    async def get_message(self, message_id: int) -> MessageRow | None:
        """One message by id (a text stored by reference is read back this way)."""
        rows = await self._fetchall(
            f"get_message({message_id})",
            f"SELECT {_MESSAGE_COLUMNS} FROM messages AS m WHERE m.id = ?",
            (message_id,),
        )
        return MessageRow.from_row(rows[0]) if rows else None

    async def search_messages(self, query: str, limit: int = 50) -> list[MessageRow]:
        """Full-text search over all messages, best match first; any input is safe."""
        match = fts_query(query)
        if match is None:
            return []
        rows = await self._fetchall(
            f"search_messages({query[:40]!r})",
            f"SELECT {_MESSAGE_COLUMNS} FROM messages_fts "
            "JOIN messages AS m ON m.id = messages_fts.rowid "
            "WHERE messages_fts MATCH ? ORDER BY messages_fts.rank LIMIT ?",
            (match, limit),
        )
        return [MessageRow.from_row(row) for row in rows]

    # -- events ---------------------------------------------------------------------

    async def add_event(self, session_id: int | None, kind: str, payload: Mapping[str, Any]) -> int:
        """Persist one typed event as JSON; session_id None is for app-wide events."""
        op = f"add_event({kind!r})"
        try:
            text = json.dumps(dict(payload), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"{op}: payload is not JSON-serialisable: {exc}") from exc
        return await self._insert(
            op,
            "INSERT INTO events (session_id, created_at, kind, payload) VALUES (?, ?, ?, ?)",
            (session_id, utc_timestamp(), kind, text),
        )

    async def session_events(self, session_id: int | None,
                             kinds: Sequence[str] | None = None) -> list[EventRow]:
        """Events of a session in order (session_id None: the app-wide ones), optionally
        only those of some kinds (a timeline needs no per-reply usage rows)."""
        op = f"session_events({session_id})"
        where = ""
        params: list[SqlParam] = [session_id]
        if kinds:
            where = f" AND kind IN ({', '.join('?' for _ in kinds)})"
            params += list(kinds)
        rows = await self._fetchall(
            op,
            "SELECT id, session_id, created_at, kind, payload FROM events "
            f"WHERE session_id IS ?{where} ORDER BY id",
            params,
        )
        return _event_rows(op, rows)

    async def last_event(self, session_id: int, kind: str) -> EventRow | None:
        """The session's most recent event of one kind (e.g. its last compaction)."""
        op = f"last_event({session_id}, {kind!r})"
        rows = await self._fetchall(
            op,
            "SELECT id, session_id, created_at, kind, payload FROM events "
            "WHERE session_id = ? AND kind = ? ORDER BY id DESC LIMIT 1",
            (session_id, kind),
        )
        return _event_rows(op, rows)[0] if rows else None

    # -- endpoint cooldowns ---------------------------------------------------------

    async def save_cooldown(
        self, key: str, failures: int, until_epoch: float, last_error: str | None
    ) -> None:
        """Insert or replace one endpoint's cooldown (until_epoch: wall-clock seconds)."""
        await self._update(
            f"save_cooldown({key!r})",
            "INSERT INTO endpoint_cooldowns (endpoint_key, failures, until_epoch, last_error, "
            "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (endpoint_key) DO UPDATE SET "
            "failures = excluded.failures, until_epoch = excluded.until_epoch, "
            "last_error = excluded.last_error, updated_at = excluded.updated_at",
            (key, failures, until_epoch, last_error, utc_timestamp()),
        )

    async def clear_cooldown(self, key: str) -> None:
        """Forget an endpoint's cooldown (it answered); a key with no row is fine."""
        await self._update(
            f"clear_cooldown({key!r})",
            "DELETE FROM endpoint_cooldowns WHERE endpoint_key = ?",
            (key,),
        )

    async def load_cooldowns(self) -> dict[str, tuple[int, float, str | None]]:
        """Every stored cooldown: key → (failures, until_epoch, last_error)."""
        rows = await self._fetchall(
            "load_cooldowns",
            "SELECT endpoint_key, failures, until_epoch, last_error FROM endpoint_cooldowns",
        )
        return {
            str(key): (int(failures), float(until), None if error is None else str(error))
            for key, failures, until, error in rows
        }
