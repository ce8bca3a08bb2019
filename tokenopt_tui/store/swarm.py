"""The swarm cycle's rows (schema v11): the cycle as one unit (`swarms`) and the link
from each role's sub_agent session to the session that started it."""

from __future__ import annotations

from dataclasses import dataclass

from tokenopt_tui.store.errors import StoreError
from tokenopt_tui.store.queries import QueryPrimitives, utc_timestamp


@dataclass(frozen=True, slots=True)
class SwarmRow:
    """One row of `swarms`."""

    id: int
    parent_session_id: int | None
    task: str
    status: str
    reserved_tokens: int
    used_tokens: int
    verdict: str | None
    attempts: int
    created_at: str
    ended_at: str | None


@dataclass(frozen=True, slots=True)
class ChildSession:
    """A role's session linked to its parent: id, role, tokens it used."""

    session_id: int
    role: str
    tokens_used: int


_COLUMNS = ("id, parent_session_id, task, status, reserved_tokens, used_tokens, verdict, "
            "attempts, created_at, ended_at")


class SwarmQueries(QueryPrimitives):
    """Reads and writes of swarms and sessions.parent_id / swarm_role."""

    async def create_swarm(self, parent_session_id: int | None, task: str,
                           reserved_tokens: int) -> int:
        """A running cycle with its reservation; its id."""
        return await self._insert(
            "create_swarm", "INSERT INTO swarms (parent_session_id, task, reserved_tokens, "
            "created_at) VALUES (?, ?, ?, ?)",
            (parent_session_id, task, reserved_tokens, utc_timestamp()))

    async def finish_swarm(self, swarm_id: int, verdict: str, used_tokens: int,
                           attempts: int) -> None:
        """Settle a cycle: its verdict and the tokens it really used."""
        op = f"finish_swarm({swarm_id})"
        if not await self._update(
                op, "UPDATE swarms SET status = 'ended', verdict = ?, used_tokens = ?, "
                "attempts = ?, ended_at = ? WHERE id = ?",
                (verdict, used_tokens, attempts, utc_timestamp(), swarm_id)):
            raise StoreError(f"{op}: no such swarm")

    async def get_swarm(self, swarm_id: int) -> SwarmRow | None:
        rows = await self._fetchall(f"get_swarm({swarm_id})",
                                    f"SELECT {_COLUMNS} FROM swarms WHERE id = ?", (swarm_id,))
        return SwarmRow(*rows[0]) if rows else None

    async def link_session(self, session_id: int, parent_id: int | None, role: str) -> None:
        """Mark `session_id` as the `role` session of a cycle started in `parent_id`."""
        op = f"link_session({session_id})"
        if not await self._update(op, "UPDATE sessions SET parent_id = ?, swarm_role = ? "
                                  "WHERE id = ?", (parent_id, role, session_id)):
            raise StoreError(f"{op}: no such session")

    async def child_sessions(self, parent_id: int) -> list[ChildSession]:
        """The role sessions started from `parent_id`, oldest first."""
        rows = await self._fetchall(
            f"child_sessions({parent_id})", "SELECT id, swarm_role, tokens_used FROM sessions "
            "WHERE parent_id = ? ORDER BY id", (parent_id,))
        return [ChildSession(int(i), str(r or ""), int(t)) for i, r, t in rows]
