"""The plan's metrics and success criteria, read from the store (no Textual here).

Periods are UTC: "day" is since midnight, "week" the last 7 days, "month" the last 30.
Every figure is one SQL aggregate over indexed columns, so the dashboard and
`tokenopt stats` cost the same however long the history is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tokenopt_tui.store import DAILY_TOKENS_BY_MODEL_SQL, Store, utc_timestamp

PERIODS = {"day": 0, "week": 7, "month": 30}
DAILY_COST_TARGET_USD = 0.50
FREE_SHARE_TARGET = 0.80
SESSION_TOKENS_TARGET = 30_000
SKILL_LOAD_P95_TARGET_MS = 100.0


def period_start(period: str, now: datetime | None = None) -> str:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return utc_timestamp(midnight - timedelta(days=PERIODS[period]))


@dataclass(frozen=True)
class Criterion:
    """One success criterion: the measured value against its target."""

    name: str
    value: float | None
    target: float
    unit: str
    ok: bool | None  # None: nothing measured yet


@dataclass
class Stats:
    period: str
    since: str
    tokens_by_task_type: list[tuple[str, int, int]] = field(default_factory=list)
    cost_by_day: list[tuple[str, float]] = field(default_factory=list)
    cost_today: float = 0.0
    cost_week: float = 0.0
    cost_month: float = 0.0
    tier_distribution: list[tuple[int | None, str, int, int]] = field(default_factory=list)
    skill_usage: list[tuple[str, int, int]] = field(default_factory=list)
    daily_tokens_by_model: list[tuple[str, str | None, int]] = field(default_factory=list)
    sessions: int = 0
    completed_replies: int = 0
    tokens: int = 0
    tokens_per_completed_task: float | None = None
    tokens_saved_by_compression: int = 0
    skill_tokens_loaded: int = 0
    requests: int = 0
    tokens_saved_by_lazy_skills: int | None = None  # None: the eager size is unknown
    cache_hits: int | None = None  # None: the result cache holds nothing and never hit
    criteria: list[Criterion] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


async def collect(store: Store, period: str = "day", paid_tiers: set[int] | None = None,
                  now: datetime | None = None, eager_skill_tokens: int | None = None) -> Stats:
    """Every figure of the dashboard for `period` (see the module docstring).

    `eager_skill_tokens` is what every request would carry with all skill bodies in
    the prompt (the plan's "before"); with it, the lazy-skill saving is computed."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    since = period_start(period, now)
    q = store.read
    stats = Stats(period, since)
    stats.tokens_by_task_type = [
        (str(t), int(tokens), int(calls)) for t, tokens, calls in await q(
            "stats: task types",
            "SELECT COALESCE(task_type, 'unknown'), SUM(prompt_tokens + completion_tokens), "
            "COUNT(*) FROM model_calls WHERE started_at >= ? GROUP BY 1 ORDER BY 2 DESC",
            (since,))]
    stats.cost_by_day = [(str(d), float(c)) for d, c in await q(
        "stats: cost per day",
        "SELECT DATE(started_at), SUM(cost_usd) FROM model_calls WHERE started_at >= ? "
        "GROUP BY 1 ORDER BY 1", (period_start("month", now),))]
    for name in ("day", "week", "month"):
        [(cost,)] = await q(f"stats: cost {name}",
                            "SELECT COALESCE(SUM(cost_usd), 0) FROM model_calls "
                            "WHERE started_at >= ?", (period_start(name, now),))
        setattr(stats, {"day": "cost_today", "week": "cost_week", "month": "cost_month"}[name],
                float(cost))
    stats.tier_distribution = [
        (None if tier is None else int(tier), str(model), int(calls), int(tokens))
        for tier, model, calls, tokens in await q(
            "stats: tiers",
            "SELECT tier, model, COUNT(*), SUM(prompt_tokens + completion_tokens) "
            "FROM model_calls WHERE started_at >= ? AND error IS NULL "
            "GROUP BY tier, model ORDER BY tier, 3 DESC", (since,))]
    stats.skill_usage = [(str(n), int(c), int(t or 0)) for n, c, t in await q(
        "stats: skills",
        "SELECT skill_name, COUNT(*), SUM(tokens_used) FROM skill_invocations "
        "WHERE created_at >= ? GROUP BY skill_name ORDER BY 2 DESC, 1", (since,))]
    stats.daily_tokens_by_model = [(str(d), m, int(t or 0)) for d, m, t in
                                   await q("plan query 1", DAILY_TOKENS_BY_MODEL_SQL)]
    [(sessions, tokens)] = await q(
        "stats: sessions",
        "SELECT COUNT(*), COALESCE(SUM(tokens_used), 0) FROM sessions AS s "
        "WHERE created_at >= ? AND EXISTS (SELECT 1 FROM messages AS m "
        "WHERE m.session_id = s.id)",  # a chat opened and closed is not a session here
        (since,))
    stats.sessions, stats.tokens = int(sessions), int(tokens)
    [(completed, requests)] = await q(
        "stats: replies and requests",
        "SELECT COALESCE(SUM(role = 'assistant' AND interrupted = 0), 0), "
        "COALESCE(SUM(role = 'user'), 0) FROM messages WHERE created_at >= ?", (since,))
    stats.completed_replies, stats.requests = int(completed), int(requests)
    if completed:
        stats.tokens_per_completed_task = round(stats.tokens / completed, 1)
    [(saved,)] = await q(
        "stats: compression savings",
        "SELECT COALESCE(SUM(json_extract(payload, '$.tokens_before') "
        "- json_extract(payload, '$.tokens_after')), 0) FROM events "
        "WHERE kind = 'ContextCompacted' AND created_at >= ?", (since,))
    stats.tokens_saved_by_compression = int(saved)
    [(hits, entries)] = await q(
        "stats: cache hits",
        "SELECT (SELECT COUNT(*) FROM events WHERE kind = 'CacheHit' AND created_at >= ?), "
        "EXISTS (SELECT 1 FROM result_cache)", (since,))
    stats.cache_hits = int(hits) if hits or entries else None
    stats.skill_tokens_loaded = sum(t for _, _, t in stats.skill_usage)
    if eager_skill_tokens is not None:
        stats.tokens_saved_by_lazy_skills = max(
            0, stats.requests * eager_skill_tokens - stats.skill_tokens_loaded)
    stats.criteria = await _criteria(store, stats, since, paid_tiers or set(), now)
    return stats


async def _criteria(store: Store, stats: Stats, since: str, paid_tiers: set[int],
                    now: datetime | None) -> list[Criterion]:
    calls = [(tier, n) for tier, _, n, _ in stats.tier_distribution]
    total = sum(n for _, n in calls)
    free = sum(n for tier, n in calls if tier not in paid_tiers)
    share = free / total if total else None
    avg = stats.tokens / stats.sessions if stats.sessions else None
    latencies = sorted(float(r[0]) for r in await store.read(
        "stats: skill latency",
        "SELECT latency_ms FROM skill_invocations WHERE latency_ms IS NOT NULL "
        "AND created_at >= ?", (since,)))
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else None
    return [
        Criterion("cost today", round(stats.cost_today, 4), DAILY_COST_TARGET_USD, "$",
                  stats.cost_today < DAILY_COST_TARGET_USD),
        Criterion("tasks on free tiers", None if share is None else round(share, 3),
                  FREE_SHARE_TARGET, "share", None if share is None
                  else share >= FREE_SHARE_TARGET),
        Criterion("average session tokens", None if avg is None else round(avg),
                  SESSION_TOKENS_TARGET, "tokens",
                  None if avg is None else avg < SESSION_TOKENS_TARGET),
        Criterion("skill load p95", p95, SKILL_LOAD_P95_TARGET_MS, "ms",
                  None if p95 is None else p95 < SKILL_LOAD_P95_TARGET_MS),
    ]

