"""Time `tokenopt concierge`'s report: on a store of the recorded usage log
(tests/data/concierge/usage.jsonl, 77 requests) and on a 10k-message store (the log's
requests repeated with varied words: 5,000 requests and 5,000 replies).

Run: .venv/bin/python benchmarks/bench_concierge.py
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from concierge_log import load_log, read_log

from tokenopt_tui.core.concierge.report import Settings, build_report
from tokenopt_tui.store import Store

EXTRA = ["please", "again", "quickly", "on ubuntu", "for prod", "in the staging env",
         "asap", "thanks", "on my mac", "for a client"]


def big_log(requests: int) -> list[dict]:
    rng = random.Random(16)
    base = read_log()
    start = datetime(2026, 10, 10, tzinfo=UTC)
    rows = []
    for n in range(requests):
        row = dict(rng.choice(base))
        row.pop("swarm", None)
        row.setdefault("skills", [])
        row.setdefault("after", [])
        row["id"] = f"b{n:05d}"
        row["session"] = n // 4
        row["text"] = f"{row['text']} {rng.choice(EXTRA)}"
        row["at"] = (start + timedelta(minutes=8 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(row)
    return rows


async def timed(rows: list[dict], label: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "t.db"
        async with await Store.open(db) as store:
            began = time.perf_counter()
            await load_log(store, db, rows)
            loaded = time.perf_counter() - began
            now = max(datetime.fromisoformat(r["at"]) for r in rows) + timedelta(days=1)
            days = (now - datetime(2026, 10, 1, tzinfo=UTC)).days
            for run in ("cold", "warm"):
                began = time.perf_counter()
                report = await build_report(store, None, Settings(days=days), now=now)
                took = time.perf_counter() - began
                print(f"{label}: {report['requests']} requests, report {took:.2f} s ({run}); "
                      f"{len(report['gaps'])} gap groups, {len(report['wanting'])} wanting "
                      f"(store written in {loaded:.1f} s)")


async def main() -> None:
    await timed(read_log(), "recorded log")
    await timed(big_log(5_000), "10k messages")


if __name__ == "__main__":
    asyncio.run(main())
