"""Agents' pheromone (schema v9): quality per (agent, task type) as α and β, the history
of τ for the dashboard, and health (provider errors) kept apart from quality."""

from __future__ import annotations

from dataclasses import dataclass

from tokenopt_tui.store.queries import QueryPrimitives, utc_timestamp


@dataclass(frozen=True, slots=True)
class AgentQualityRow:
    """α and β of one (agent, task type) as last written (evaporation applies on read)."""

    agent: str
    task_type: str
    alpha: float
    beta: float
    updated_at: str


@dataclass(frozen=True, slots=True)
class AgentTauRow:
    """One update of an agent's τ for a task type: what the dashboard plots."""

    time: str
    agent: str
    task_type: str
    tau: float
    source: str


class AgentQueries(QueryPrimitives):
    """Reads and writes of agent_quality, agent_quality_history and agent_health."""

    async def agent_qualities(self) -> list[AgentQualityRow]:
        rows = await self._fetchall(
            "agent_qualities", "SELECT agent, task_type, alpha, beta, updated_at "
            "FROM agent_quality ORDER BY agent, task_type")
        return [AgentQualityRow(str(a), str(t), float(al), float(be), str(u))
                for a, t, al, be, u in rows]

    async def agent_quality(self, agent: str, task_type: str) -> AgentQualityRow | None:
        rows = await self._fetchall(
            "agent_quality", "SELECT agent, task_type, alpha, beta, updated_at "
            "FROM agent_quality WHERE agent = ? AND task_type = ?", (agent, task_type))
        if not rows:
            return None
        a, t, al, be, u = rows[0]
        return AgentQualityRow(str(a), str(t), float(al), float(be), str(u))

    async def save_agent_quality(self, row: AgentQualityRow, tau: float, source: str) -> None:
        """Write α and β and note the new τ in the history, in one transaction."""
        op = f"save_agent_quality({row.agent!r}, {row.task_type!r})"
        async with self.transaction(op):
            await self._update(
                op, "INSERT INTO agent_quality (agent, task_type, alpha, beta, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (agent, task_type) DO UPDATE SET "
                "alpha = excluded.alpha, beta = excluded.beta, updated_at = excluded.updated_at",
                (row.agent, row.task_type, row.alpha, row.beta, row.updated_at))
            await self._insert(
                op, "INSERT INTO agent_quality_history (time, agent, task_type, tau, source) "
                "VALUES (?, ?, ?, ?, ?)", (row.updated_at, row.agent, row.task_type, tau, source))

    async def agent_quality_history(self, since: str | None = None) -> list[AgentTauRow]:
        """Every τ update (oldest first), from `since` (a UTC timestamp) if given."""
        rows = await self._fetchall(
            "agent_quality_history", "SELECT time, agent, task_type, tau, source FROM "
            "agent_quality_history WHERE time >= ? ORDER BY time, id", (since or "",))
        return [AgentTauRow(str(t), str(a), str(k), float(tau), str(s))
                for t, a, k, tau, s in rows]

    async def record_agent_error(self, agent: str, at: str | None = None) -> None:
        """A provider error while `agent` was answering: health only, never quality."""
        await self._update(
            f"record_agent_error({agent!r})",
            "INSERT INTO agent_health (agent, errors, last_error_at) VALUES (?, 1, ?) "
            "ON CONFLICT (agent) DO UPDATE SET errors = errors + 1, "
            "last_error_at = excluded.last_error_at", (agent, at or utc_timestamp()))

    async def agent_health(self) -> dict[str, tuple[int, str | None]]:
        """Each agent's provider errors and the time of the last one."""
        rows = await self._fetchall(
            "agent_health", "SELECT agent, errors, last_error_at FROM agent_health")
        return {str(a): (int(n), None if t is None else str(t)) for a, n, t in rows}
