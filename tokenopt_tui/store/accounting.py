"""What was spent: model calls (charged in flight, then settled), skill loads, and the
plan's dashboard queries: the query layer db.Store is built on, above queries.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tokenopt_tui.store.errors import StoreError
from tokenopt_tui.store.queries import StoreQueries, utc_timestamp

# The plan's dashboard queries, run exactly as written: they read
# sessions(created_at, model, tokens_used) and skill_invocations(skill_name, tokens_used).
DAILY_TOKENS_BY_MODEL_SQL = (
    "SELECT DATE(created_at) AS day, model, SUM(tokens_used) AS tokens FROM sessions "
    "GROUP BY day, model ORDER BY day DESC, tokens DESC"
)
SKILL_USAGE_SQL = (
    "SELECT skill_name, COUNT(*) AS invocations, SUM(tokens_used) AS tokens "
    "FROM skill_invocations GROUP BY skill_name ORDER BY invocations DESC"
)


@dataclass(frozen=True, slots=True)
class CallFigures:
    """A finished call's figures, as `settle_model_call` writes them."""

    message_id: int | None
    latency_ms: float | None
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float = 0.0
    estimated: bool = False
    error: str | None = None
    task_type: str | None = None


class AccountingQueries(StoreQueries):
    """Model calls and skill invocations, and the session totals they roll into."""

    async def record_model_call(
        self,
        session_id: int,
        *,
        message_id: int | None,
        tier: int | None,
        provider: str,
        endpoint: str | None,
        model: str,
        started_at: datetime | str,
        latency_ms: float | None,
        prompt_tokens: int,
        completion_tokens: int,
        cached_tokens: int = 0,
        reasoning_tokens: int = 0,
        cost_usd: float = 0.0,
        estimated: bool = False,
        error: str | None = None,
        task_type: str | None = None,
    ) -> int:
        """Insert the call and roll its usage into the session row, atomically.

        Tokens and cost are added even for a failed call (a stream that died midway
        was still billed); `sessions.model` only moves to a model that answered.
        """
        op = f"record_model_call(session {session_id}, {model!r})"
        started = started_at if isinstance(started_at, str) else utc_timestamp(started_at)
        async with self.transaction(op):
            call_id = await self.start_model_call(
                session_id, tier=tier, provider=provider, endpoint=endpoint, model=model,
                started_at=started, prompt_tokens=0, cost_usd=0.0, task_type=task_type)
            await self.settle_model_call(call_id, CallFigures(
                message_id, latency_ms, prompt_tokens, completion_tokens, cached_tokens,
                reasoning_tokens, cost_usd, estimated, error, task_type))
        return call_id

    async def start_model_call(
        self,
        session_id: int,
        *,
        tier: int | None,
        provider: str,
        endpoint: str | None,
        model: str,
        started_at: str,
        prompt_tokens: int,
        cost_usd: float,
        task_type: str | None = None,
    ) -> int:
        """Charge a call the moment it is sent: an in-flight row holding the prompt
        estimate, added to the session's tokens and cost in the same transaction.

        If the process dies before `settle_model_call`, the row and the charge stay:
        a killed call is never free. Progress and settlement adjust both by the delta.
        """
        op = f"start_model_call(session {session_id}, {model!r})"
        async with self.transaction(op):
            call_id = await self._insert(
                op,
                "INSERT INTO model_calls (session_id, tier, provider, endpoint, model, "
                "started_at, prompt_tokens, completion_tokens, cost_usd, estimated, "
                "task_type, in_flight) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, 1, ?, 1)",
                (session_id, tier, provider, endpoint, model, started_at, prompt_tokens,
                 cost_usd, task_type),
            )
            if not await self._update(
                    op, "UPDATE sessions SET tokens_used = tokens_used + ?, "
                    "cost_usd = cost_usd + ? WHERE id = ?",
                    (prompt_tokens, cost_usd, session_id)):
                raise StoreError(f"{op}: no such session")
        return call_id

    async def _recharge(self, op: str, call_id: int, tokens: int, cost_usd: float) -> None:
        """Move the call's session total by the difference between its new and old charge
        (inside the caller's transaction, before the call row is updated)."""
        changed = await self._update(
            op,
            "UPDATE sessions SET tokens_used = tokens_used + ? - (SELECT prompt_tokens + "
            "completion_tokens FROM model_calls WHERE id = ?), cost_usd = cost_usd + ? - "
            "(SELECT cost_usd FROM model_calls WHERE id = ?) "
            "WHERE id = (SELECT session_id FROM model_calls WHERE id = ?)",
            (tokens, call_id, cost_usd, call_id, call_id),
        )
        if not changed:
            raise StoreError(f"{op}: no such call")

    async def model_call_progress(self, call_id: int, *, prompt_tokens: int,
                                  completion_tokens: int, cost_usd: float,
                                  message_id: int | None = None,
                                  content: str | None = None) -> None:
        """The reply so far and the call's charge for it, in one transaction (the
        periodic flush): a kill after this loses neither the text nor its cost."""
        op = f"model_call_progress({call_id})"
        async with self.transaction(op):
            if message_id is not None and content is not None:
                await self.update_message_content(message_id, content)
            await self._recharge(op, call_id, prompt_tokens + completion_tokens, cost_usd)
            await self._update(
                op, "UPDATE model_calls SET prompt_tokens = ?, completion_tokens = ?, "
                "cost_usd = ?, message_id = COALESCE(?, message_id) WHERE id = ?",
                (prompt_tokens, completion_tokens, cost_usd, message_id, call_id))

    async def settle_model_call(self, call_id: int, figures: CallFigures) -> None:
        """The call ended: its final usage replaces the in-flight charge (the session
        total moves by the difference); `sessions.model` moves only on success."""
        op = f"settle_model_call({call_id})"
        f = figures
        async with self.transaction(op):
            await self._recharge(op, call_id, f.prompt_tokens + f.completion_tokens, f.cost_usd)
            await self._update(
                op,
                "UPDATE model_calls SET message_id = COALESCE(?, message_id), latency_ms = ?, "
                "prompt_tokens = ?, completion_tokens = ?, cached_tokens = ?, "
                "reasoning_tokens = ?, cost_usd = ?, estimated = ?, error = ?, "
                "task_type = COALESCE(?, task_type), in_flight = 0 WHERE id = ?",
                (f.message_id, f.latency_ms, f.prompt_tokens, f.completion_tokens,
                 f.cached_tokens, f.reasoning_tokens, f.cost_usd, int(f.estimated), f.error,
                 f.task_type, call_id),
            )
            if f.error is None:
                await self._update(
                    op, "UPDATE sessions SET model = (SELECT model FROM model_calls "
                    "WHERE id = ?) WHERE id = (SELECT session_id FROM model_calls WHERE id = ?)",
                    (call_id, call_id))

    async def record_skill_invocation(
        self,
        session_id: int | None,
        skill_name: str,
        tokens_used: int,
        score: float | None,
        latency_ms: float | None,
    ) -> int:
        """Log one use of a skill, for the dashboard's skill usage table."""
        return await self._insert(
            f"record_skill_invocation({skill_name!r})",
            "INSERT INTO skill_invocations (session_id, skill_name, tokens_used, score, "
            "latency_ms, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, skill_name, tokens_used, score, latency_ms, utc_timestamp()),
        )

    async def daily_tokens_by_model(self) -> list[tuple[str, str | None, int]]:
        """(UTC day, model, tokens) rows; model is None for sessions with no answer yet."""
        rows = await self._fetchall("daily_tokens_by_model", DAILY_TOKENS_BY_MODEL_SQL)
        return [(str(day), model, int(tokens)) for day, model, tokens in rows]

    async def skill_usage(self) -> list[tuple[str, int, int]]:
        """(skill, invocations, tokens) rows, most used first."""
        rows = await self._fetchall("skill_usage", SKILL_USAGE_SQL)
        return [(str(name), int(count), int(tokens)) for name, count, tokens in rows]

    # -- benchmark runs ----------------------------------------------------------------

    async def save_bench_run(self, mode: str, seconds: float, report_json: str) -> int:
        """Keep one `tokenopt bench` report (its `--json` text) for the dashboard."""
        return await self._insert(
            "save_bench_run", "INSERT INTO bench_runs (started_at, mode, seconds, report) "
            "VALUES (?, ?, ?, ?)", (utc_timestamp(), mode, seconds, report_json))

    async def latest_bench_run(self) -> tuple[str, str, float, str] | None:
        """(started_at, mode, seconds, report JSON) of the newest run, or None."""
        rows = await self._fetchall(
            "latest_bench_run", "SELECT started_at, mode, seconds, report FROM bench_runs "
            "ORDER BY id DESC LIMIT 1")
        if not rows:
            return None
        started, mode, seconds, report = rows[0]
        return str(started), str(mode), float(seconds), str(report)

    # -- free hosted quota (migration 0008) ---------------------------------------------

    async def record_free_request(self, tier: int, endpoint: str, at: float) -> int:
        """Count one request sent to a free hosted endpoint (`at`: epoch seconds), so
        the day's use survives restarts and is shared by every process."""
        return await self._insert(
            f"record_free_request(tier {tier})",
            "INSERT INTO free_requests (tier, endpoint, at_epoch) VALUES (?, ?, ?)",
            (tier, endpoint, at))

    async def free_requests_since(self, since: float) -> int:
        """How many free hosted requests were sent at or after `since` (epoch seconds)."""
        rows = await self._fetchall(
            "free_requests_since",
            "SELECT COUNT(*) FROM free_requests WHERE at_epoch >= ?", (since,))
        return int(rows[0][0]) if rows else 0

    async def free_requests_by_tier(self, since: float) -> dict[int, int]:
        """Free hosted requests since `since`, per tier (the account total is their sum)."""
        rows = await self._fetchall(
            "free_requests_by_tier",
            "SELECT tier, COUNT(*) FROM free_requests WHERE at_epoch >= ? GROUP BY tier",
            (since,))
        return {int(tier): int(count) for tier, count in rows}

    async def save_free_quota_report(self, scope: str, limit: int, remaining: int,
                                     reset_epoch: float | None, seen_epoch: float) -> None:
        """Keep the latest X-RateLimit-* figures of one window ('day' or 'minute')."""
        await self._update(
            f"save_free_quota_report({scope!r})",
            "INSERT INTO free_quota_reports (scope, limit_count, remaining, reset_epoch, "
            "seen_epoch) VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope) DO UPDATE SET "
            "limit_count = excluded.limit_count, remaining = excluded.remaining, "
            "reset_epoch = excluded.reset_epoch, seen_epoch = excluded.seen_epoch",
            (scope, limit, remaining, reset_epoch, seen_epoch))

    async def free_quota_reports(self) -> dict[str, tuple[int, int, float | None, float]]:
        """scope → (limit, remaining, reset_epoch, seen_epoch) as last reported."""
        rows = await self._fetchall(
            "free_quota_reports", "SELECT scope, limit_count, remaining, reset_epoch, "
            "seen_epoch FROM free_quota_reports")
        return {str(scope): (int(limit), int(remaining),
                             None if reset is None else float(reset), float(seen))
                for scope, limit, remaining, reset, seen in rows}
