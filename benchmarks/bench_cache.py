"""Result cache lookup: one indexed SELECT against a store holding 100,000 entries.

A real Store (SQLite in WAL mode, in a temp dir) is filled with `--entries` answers
(half of them expired, as a busy cache between purges would be), then `--lookups`
random keys are looked up through `ResultCache.get` (present and live, present but
expired, and absent, in equal parts), each timed end to end through aiosqlite; a hit
also counts itself (one UPDATE). Also timed: building a key for a realistic request
and `cache_purge_expired` over the expired half. Target: lookup p99 < 2 ms.

Prints figures only (no asserts).

    .venv/bin/python benchmarks/bench_cache.py [--entries 100000] [--lookups 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import statistics
import tempfile
import time
from pathlib import Path

from tokenopt_tui.config import CacheSettings, Config, Endpoint, LocalSettings, Tier
from tokenopt_tui.core.cache.key import KeyParts, SkillRef, cache_key, sampling_for
from tokenopt_tui.core.cache.result import CachePlan, ResultCache
from tokenopt_tui.core.providers.base import ChatMessage
from tokenopt_tui.store import Store

NOW = 1_800_000_000.0


def _key(i: int) -> str:
    return hashlib.sha256(f"entry {i}".encode()).hexdigest()


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def fill(store: Store, entries: int) -> None:
    rows = [(_key(i), NOW - 100, NOW + (3_600 if i % 2 else -1), "analysis", "mlx",
             "embedded", f"answer {i} " * 20, 300, 80) for i in range(entries)]
    async with store.transaction("bench fill"):
        for start in range(0, entries, 5_000):
            for row in rows[start:start + 5_000]:
                await store._update(  # bulk fill: not the code under test
                    "bench fill", "INSERT INTO result_cache (key, created_at, expires_at, "
                    "ttl_class, endpoint, model, reply, prompt_tokens, completion_tokens) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)


async def main(entries: int, lookups: int) -> None:
    config = Config(tiers=(Tier(1, "local", False, (Endpoint("mlx", "embedded"),)),),
                    local=LocalSettings(temperature=0.0), cache=CacheSettings())
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "bench.db")
        started = time.perf_counter()
        await fill(store, entries)
        print(f"filled {entries:,} entries in {time.perf_counter() - started:.1f} s")
        cache = ResultCache(store, config, clock=lambda: NOW)
        rng = random.Random(7)
        endpoint = config.tiers[0].endpoints[0]
        times: dict[str, list[float]] = {"live": [], "expired": [], "absent": []}
        for n in range(lookups):
            i = rng.randrange(entries)
            what = ("live", "expired", "absent")[n % 3]
            i = i | 1 if what == "live" else i & ~1
            key = _key(i) if what != "absent" else _key(entries + n)
            plan = CachePlan(key, 1, endpoint, "analysis")
            t = time.perf_counter()
            found = await cache.get(plan)
            times[what].append((time.perf_counter() - t) * 1000)
            assert (found is not None) == (what == "live")
        every = [x for values in times.values() for x in values]
        print(f"lookup over {entries:,} entries, {lookups:,} lookups (ms):")
        for name, values in [*times.items(), ("all", every)]:
            print(f"  {name:<8} median {statistics.median(values):.3f}  "
                  f"p95 {_percentile(values, 0.95):.3f}  p99 {_percentile(values, 0.99):.3f}")
        messages = [ChatMessage("system", "skill body " * 300)] + [
            ChatMessage("user" if k % 2 else "assistant", "turn text " * 80) for k in range(12)]
        parts = KeyParts(endpoint, messages, sampling_for(endpoint, config),
                         [SkillRef.of("aria-cron", "skill body " * 300)])
        t = time.perf_counter()
        for _ in range(200):
            cache_key(parts)
        print(f"key of a 12-turn request with a skill: "
              f"{(time.perf_counter() - t) / 200 * 1000:.3f} ms")
        t = time.perf_counter()
        purged = await store.cache_purge_expired(NOW)
        print(f"purge of {purged:,} expired entries: {(time.perf_counter() - t) * 1000:.0f} ms")
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=3_000)
    args = parser.parse_args()
    asyncio.run(main(args.entries, args.lookups))
