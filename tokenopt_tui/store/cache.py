"""The result cache's rows (schema v10): look up, store, count a hit, purge, clear.

Times are unix seconds passed in by the caller (the core's cache holds the clock), so
tests can move time without sleeping. A lookup is one SELECT by primary key.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenopt_tui.store.queries import QueryPrimitives


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One stored answer and the figures of the call that produced it."""

    key: str
    created_at: float
    expires_at: float
    ttl_class: str
    endpoint: str
    model: str
    reply: str
    prompt_tokens: int
    completion_tokens: int
    hits: int = 0
    last_hit_at: float | None = None


@dataclass(frozen=True, slots=True)
class CacheCounts:
    """What `tokenopt cache stats` prints: live and expired entries, hits, tokens saved."""

    entries: int
    expired: int
    hits: int
    saved_tokens: int
    by_class: tuple[tuple[str, int, int], ...]  # (ttl class, live entries, hits)


_COLUMNS = ("key, created_at, expires_at, ttl_class, endpoint, model, reply, "
            "prompt_tokens, completion_tokens, hits, last_hit_at")


class CacheQueries(QueryPrimitives):
    """Reads and writes of result_cache."""

    async def cache_get(self, key: str, now: float) -> CacheEntry | None:
        """The live entry for `key` (None when absent or expired at `now`)."""
        rows = await self._fetchall(
            "cache_get", f"SELECT {_COLUMNS} FROM result_cache "
            "WHERE key = ? AND expires_at > ?", (key, now))
        if not rows:
            return None
        k, c, e, t, ep, m, r, p, comp, h, last = rows[0]
        return CacheEntry(str(k), float(c), float(e), str(t), str(ep), str(m), str(r),
                          int(p), int(comp), int(h), None if last is None else float(last))

    async def cache_put(self, entry: CacheEntry) -> None:
        """Store (or replace) an answer; a replaced entry's hits start again."""
        await self._update(
            "cache_put", f"INSERT OR REPLACE INTO result_cache ({_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (entry.key, entry.created_at, entry.expires_at, entry.ttl_class, entry.endpoint,
             entry.model, entry.reply, entry.prompt_tokens, entry.completion_tokens,
             entry.hits, entry.last_hit_at))

    async def cache_hit(self, key: str, now: float) -> None:
        """Count one answer served from `key`."""
        await self._update("cache_hit", "UPDATE result_cache SET hits = hits + 1, "
                           "last_hit_at = ? WHERE key = ?", (now, key))

    async def cache_purge_expired(self, now: float) -> int:
        """Delete the entries expired at `now`; how many went."""
        return await self._update("cache_purge_expired",
                                  "DELETE FROM result_cache WHERE expires_at <= ?", (now,))

    async def cache_clear(self) -> int:
        """Delete every entry; how many went."""
        return await self._update("cache_clear", "DELETE FROM result_cache")

    async def cache_counts(self, now: float) -> CacheCounts:
        """Entries (live and expired at `now`), hits and the tokens the hits saved."""
        [(live, expired, hits, saved)] = await self._fetchall(
            "cache_counts", "SELECT COALESCE(SUM(expires_at > ?), 0), "
            "COALESCE(SUM(expires_at <= ?), 0), COALESCE(SUM(hits), 0), "
            "COALESCE(SUM(hits * (prompt_tokens + completion_tokens)), 0) FROM result_cache",
            (now, now))
        by_class = await self._fetchall(
            "cache_counts", "SELECT ttl_class, COALESCE(SUM(expires_at > ?), 0), SUM(hits) "
            "FROM result_cache GROUP BY ttl_class ORDER BY ttl_class", (now,))
        return CacheCounts(int(live), int(expired), int(hits), int(saved),
                           tuple((str(c), int(n), int(h)) for c, n, h in by_class))
