"""History at scale: first paint, full-text search, dashboard queries, a 2,000-message session.

Runs on a heavy user's database: 10,000 sessions and 200,000 messages written by
gen_history.py into a temp dir (schema, indexes and FTS5 triggers from `Store.open`;
see that file for what the rows hold), or a copy of `--db FILE` (copied, since the app
adds a session to it). The file was just written or copied, so the OS page cache is
warm: no figure includes a disk read. Everything measured is the real code: `Store`
over aiosqlite, `metrics.collect`, and the app's screens in `TokenoptApp.run_test`
with real services (a FakeProvider as tier 1: no model is called).

  first paint  Ctrl+G in the app (chat screen open, session ready) until the history
               DataTable holds its rows and the screen has refreshed (`pilot.pause()`
               after row_count > 0). Each press builds a new HistoryScreen; the first
               (the process's first: cold caches) is shown on its own, then the median of
               the rest. Split out: when `pilot.press` returned and when the rows were in
               the table, the `store.history(limit=500)` call inside (the store
               instance's method is wrapped to time it), the process's CPU time (the
               machine may be shared: CPU time well under wall time means waiting), and
               the longest gap of a 10 ms timer (see session). Also the same
               `store.history` call on a separate Store. Target: < 300 ms.
  search       what Enter in the history's search box runs: `store.search_sessions(word,
               limit=500)` then `store.history(session_ids=...)`, for 20 words picked
               from the FTS index's own vocabulary (an fts5vocab table in the temp
               schema): common (in >= 5 % of messages), medium (0.1-1 %), rare (at most
               0.025 %), spread evenly within each band, its first and last included.
               Each word runs `--search-runs` times; median / p95 / max over all runs.
               Target: < 50 ms.
  dashboard    `metrics.collect(store, period, paid_tiers)` for day, week and month
               (what the dashboard and `tokenopt stats` run), `-n` times each after one
               untimed warm-up; the queries inside are timed through a stand-in for the
               store whose `read` times each query, to show which dominate. Target:
               < 200 ms for all the queries of one period.
  session      pushing `SessionViewScreen` for the session with the most messages (2,000
               in the generated file) until its transcript TextArea holds the text and
               the screen has refreshed; meanwhile a 10 ms `set_interval` timer on the
               app records its ticks, and the longest gap between ticks (from the push to
               the refresh) says how long the UI could not react. The idle gap is shown
               for scale. Split out: the process's CPU time, the store calls inside (run
               in aiosqlite's thread; decoding rows and events is on the loop), and
               `to_markdown` and `TextArea.load_text` on that transcript timed on their
               own (the screen runs both on the event loop).

Prints figures only (no asserts).

    .venv/bin/python benchmarks/bench_history.py [--db FILE] [-n 7] [--search-runs 5]
        [--session-runs 5] [--sessions 10000 --messages 200000 --seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "benchmarks")]

from gen_history import generate  # noqa: E402
from textual.widgets import DataTable, TextArea  # noqa: E402
from ui_helpers import FakeProvider, build_services, ready, temp_paths  # noqa: E402

from tokenopt_tui.config import load_config  # noqa: E402
from tokenopt_tui.core.reporting import metrics  # noqa: E402
from tokenopt_tui.core.reporting.export import session_data, to_markdown  # noqa: E402
from tokenopt_tui.core.text import terminal_safe  # noqa: E402
from tokenopt_tui.store import Store  # noqa: E402
from tokenopt_tui.ui.app import TokenoptApp  # noqa: E402
from tokenopt_tui.ui.screens.history import PAGE, HistoryScreen, SessionViewScreen  # noqa: E402

BANDS = (("common", 7), ("medium", 7), ("rare", 6))


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * len(s)) - 1))]


def ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def spread(values: list[float]) -> str:
    return (f"median {statistics.median(values):7.1f}  min {min(values):7.1f}  "
            f"max {max(values):7.1f} ms")


def db_size(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


# -- the database ---------------------------------------------------------------------

def prepare_db(tmp: Path, args: argparse.Namespace) -> Path:
    path = tmp / "history.db"
    if args.db is not None:
        t0 = time.perf_counter()
        with sqlite3.connect(args.db) as src, sqlite3.connect(path) as dst:
            src.backup(dst)
        print(f"copied {args.db} in {time.perf_counter() - t0:.1f} s")
    else:
        t0 = time.perf_counter()
        counts, phases = generate(path, args.sessions, args.messages, args.seed)
        print(f"generated in {time.perf_counter() - t0:.1f} s (composing "
              f"{phases['compose']:.1f} s, inserting with the FTS index "
              f"{phases['insert']:.1f} s): " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    with sqlite3.connect(path) as conn:
        sizes = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name "
                             "ORDER BY 2 DESC LIMIT 4").fetchall() if has_dbstat(conn) else []
    biggest = ", ".join(f"{name} {size / 1e6:.0f}" for name, size in sizes)
    print(f"database: {db_size(path):.0f} MB" + (f" (largest: {biggest} MB)" if biggest else ""))
    return path


def has_dbstat(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT 1 FROM dbstat LIMIT 1")
    except sqlite3.OperationalError:
        return False
    return True


def pick_words(path: Path) -> tuple[list[tuple[str, str, int]], int, float]:
    """(band, word, messages containing it) for the search runs, from the FTS index."""
    t0 = time.perf_counter()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, messages_fts, row)")
        total = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        terms = conn.execute(
            "SELECT term, doc FROM temp.vocab WHERE length(term) >= 4 "
            "AND term NOT GLOB '*[^a-z]*' ORDER BY doc DESC, term").fetchall()
    bands = {
        "common": [t for t in terms if t[1] >= 0.05 * total],
        "medium": [t for t in terms if 0.001 * total <= t[1] <= 0.01 * total],
        "rare": [t for t in terms if 2 <= t[1] <= max(10, 0.00025 * total)],
    }
    out = []
    for band, count in BANDS:  # spread over the band, its first and last included
        found = bands[band]
        picks = sorted({round(i * (len(found) - 1) / max(1, count - 1)) for i in range(count)})
        out += [(band, *found[i]) for i in picks if found]
    return out, total, ms(t0)


def biggest_session(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT session_id, COUNT(*) FROM messages GROUP BY 1 "
                            "ORDER BY 2 DESC LIMIT 1").fetchone()


# -- store-level figures --------------------------------------------------------------

class TimedReads:
    """Stands in for the Store in `metrics.collect`: times each `read` by its name."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.times: dict[str, list[float]] = defaultdict(list)

    async def read(self, op: str, sql: str, params: Any = ()) -> Any:
        t0 = time.perf_counter()
        try:
            return await self.store.read(op, sql, params)
        finally:
            self.times[op].append(ms(t0))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


async def bench_store(path: Path, words: list[tuple[str, str, int]], total: int,
                      args: argparse.Namespace) -> None:
    store = await Store.open(path)
    try:
        runs = []
        for _ in range(args.n + 1):
            t0 = time.perf_counter()
            rows = await store.history(limit=PAGE)
            runs.append(ms(t0))
        print(f"\nstore.history(limit={PAGE}) on its own Store, {len(rows)} rows: first (fresh "
              f"connection) {runs[0]:.1f} ms; then {spread(runs[1:])} over {args.n} runs")

        print(f"\nfull-text search: search_sessions(word, limit={PAGE}) + "
              f"history(session_ids=...), {args.search_runs} runs per word (target < 50 ms)")
        print(f"{'band':<7} {'word':<16} {'messages':>9} {'sessions':>9} {'search':>8} "
              f"{'history':>8} {'total':>8}   (ms, medians)")
        totals: dict[str, list[float]] = defaultdict(list)
        for band, word, docs in words:
            search, listing, both = [], [], []
            for _ in range(args.search_runs):
                t0 = time.perf_counter()
                ids = await store.search_sessions(word, limit=PAGE)
                t1 = time.perf_counter()
                found = await store.history(session_ids=ids)
                search.append((t1 - t0) * 1000)
                listing.append(ms(t1))
                both.append(ms(t0))
            totals[band] += both
            totals["all"] += both
            print(f"{band:<7} {word:<16} {docs:>9,} {len(found):>9,} "
                  f"{statistics.median(search):8.1f} {statistics.median(listing):8.1f} "
                  f"{statistics.median(both):8.1f}")
        print(f"messages in the index: {total:,}")
        for band in ("common", "medium", "rare", "all"):
            t = totals[band]
            if t:
                print(f"  {band:<7} median {statistics.median(t):7.1f}  p95 {pct(t, 0.95):7.1f}"
                      f"  max {max(t):7.1f} ms   ({len(t)} runs)")

        config = load_config(temp_paths(path.parent / "config"), env={})
        paid = {t.number for t in config.tiers if t.paid}
        print(f"\ndashboard: metrics.collect(store, period, paid_tiers={sorted(paid)}), "
              f"{args.n} runs each after a warm-up (target < 200 ms)")
        medians = {}
        timed = TimedReads(store)
        for period in ("day", "week", "month"):
            await metrics.collect(store, period, paid_tiers=paid)  # warm-up
            runs = []
            timed.times.clear()
            for _ in range(args.n):
                t0 = time.perf_counter()
                stats = await metrics.collect(timed, period, paid_tiers=paid)  # type: ignore
                runs.append(ms(t0))
            medians[period] = statistics.median(runs)
            top = sorted(timed.times.items(), key=lambda kv: -statistics.median(kv[1]))[:3]
            print(f"  {period:<6} {spread(runs)}; {stats.sessions:,} sessions, "
                  f"{len(timed.times)} queries; slowest: " + ", ".join(
                      f"{op.removeprefix('stats: ')} {statistics.median(t):.0f}" for op, t in top))
        print(f"  day + week + month: {sum(medians.values()):.0f} ms")
    finally:
        await store.close()


# -- the app --------------------------------------------------------------------------

def wrap_timed(obj: object, names: tuple[str, ...], sink: list[float]) -> None:
    """Time every call of these async methods of `obj` (instance attributes shadow them)."""
    for name in names:
        method = getattr(obj, name)

        async def timed(*a: Any, _method: Callable[..., Any] = method, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await _method(*a, **kw)
            finally:
                sink.append(ms(t0))

        setattr(obj, name, timed)


async def until(predicate: Callable[[], object], timeout: float = 60.0) -> None:
    """Poll every millisecond (the app runs meanwhile); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the screen never filled")
        await asyncio.sleep(0.001)


def transcript_lines(app: TokenoptApp) -> int:
    """Lines in the open SessionViewScreen's transcript (0 before it is composed)."""
    if not isinstance(app.screen, SessionViewScreen):
        return 0
    area = next(app.screen.query("#transcript").results(TextArea), None)
    return 0 if area is None else area.document.line_count


def table_rows(app: TokenoptApp) -> int:
    """Rows in the open HistoryScreen's table (0 before it is composed)."""
    if not isinstance(app.screen, HistoryScreen):
        return 0
    table = next(app.screen.query("#sessions").results(DataTable), None)
    return 0 if table is None else table.row_count


class Ticks:
    """A 10 ms interval timer on the app; the longest gap between its ticks in a window."""

    def __init__(self, app: TokenoptApp) -> None:
        self.ticks: list[float] = []
        self.timer = app.set_interval(0.01, lambda: self.ticks.append(time.perf_counter()))

    def max_gap(self, start: float, end: float) -> float:
        inside = [start, *(t for t in self.ticks if start < t < end), end]
        return max(b - a for a, b in itertools.pairwise(inside)) * 1000

    def stop(self) -> None:
        self.timer.stop()


async def bench_app(path: Path, args: argparse.Namespace) -> None:
    big_id, big_count = biggest_session(path)
    services = build_services(path.parent / "app", FakeProvider(), db_path=path)
    app = TokenoptApp(services)
    async with app.run_test(size=(140, 44)) as pilot:
        await ready(pilot)
        store = services.store
        queries: list[float] = []
        wrap_timed(store, ("history",), queries)
        ticks = Ticks(app)
        await pilot.pause(0.5)
        t_idle = time.perf_counter()
        await asyncio.sleep(1.0)
        idle_gap = ticks.max_gap(t_idle, time.perf_counter())

        paints, gaps, inside, pressed, filled, cpu = [], [], [], [], [], []
        for _ in range(args.n + 1):
            queries.clear()
            c0, t0 = time.process_time(), time.perf_counter()
            await pilot.press("ctrl+g")
            pressed.append(ms(t0))
            await until(lambda: table_rows(app) > 0)
            filled.append(ms(t0))
            await pilot.pause()
            paints.append(ms(t0))
            cpu.append((time.process_time() - c0) * 1000)
            gaps.append(ticks.max_gap(t0, time.perf_counter()))
            inside.append(sum(queries))
            rows = app.screen.query_one("#sessions", DataTable).row_count
            app.pop_screen()
            await pilot.pause(0.2)
        print(f"\nhistory first paint (Ctrl+G until {rows} rows are on screen), 140x44, "
              f"target < 300 ms")
        print(f"  first press (the process's first HistoryScreen): {paints[0]:.0f} ms, of which "
              f"store.history {inside[0]:.0f} ms; timer gap {gaps[0]:.0f} ms")
        print(f"  next {args.n}: {spread(paints[1:])}")
        print(f"    medians: pilot.press returned at {statistics.median(pressed[1:]):.0f} ms, "
              f"rows in the table at {statistics.median(filled[1:]):.0f} ms; store.history "
              f"inside {statistics.median(inside[1:]):.1f} ms; process CPU time "
              f"{statistics.median(cpu[1:]):.0f} ms; longest timer gap "
              f"{statistics.median(gaps[1:]):.0f} ms (max {max(gaps[1:]):.0f})")

        [row] = await store.history(session_ids=[big_id])
        db_parts: list[float] = []
        wrap_timed(store, ("get_session", "history", "session_messages", "session_events"),
                   db_parts)
        opens, gaps, db_ms, cpu = [], [], [], []
        for _ in range(args.session_runs):
            db_parts.clear()
            c0, t0 = time.process_time(), time.perf_counter()
            app.push_screen(SessionViewScreen(services, row))
            await until(lambda: transcript_lines(app) > 1)
            await pilot.pause()
            opens.append(ms(t0))
            cpu.append((time.process_time() - c0) * 1000)
            gaps.append(ticks.max_gap(t0, time.perf_counter()))
            db_ms.append(sum(db_parts))
            area = app.screen.query_one("#transcript", TextArea)
            lines, chars = area.document.line_count, len(area.text)
            app.pop_screen()
            await pilot.pause(0.2)
        ticks.stop()

        data = await session_data(store, big_id)
        t0 = time.perf_counter()
        text = terminal_safe(to_markdown({**data, "events": []}))
        markdown_ms = ms(t0)
        screen = SessionViewScreen(services, row)
        app.push_screen(screen)
        await until(lambda: transcript_lines(app) > 1)
        await pilot.pause()
        area = screen.query_one("#transcript", TextArea)
        loads = []
        for _ in range(3):
            t0 = time.perf_counter()
            area.load_text(text)
            loads.append(ms(t0))
        print(f"\nopening session #{row.id} ({big_count:,} messages, {len(data['events']):,} "
              f"events; transcript {lines:,} lines, {chars / 1e6:.1f} MB), {args.session_runs} "
              f"runs")
        print(f"  push until filled and refreshed: {spread(opens)} (process CPU time: "
              f"median {statistics.median(cpu):.0f} ms)")
        print(f"  longest gap of a 10 ms timer meanwhile: median {statistics.median(gaps):.0f},"
              f" max {max(gaps):.0f} ms (idle: {idle_gap:.0f} ms)")
        print(f"  inside: store calls {statistics.median(db_ms):.0f} ms (median); timed alone: "
              f"to_markdown + terminal_safe {markdown_ms:.0f} ms, TextArea.load_text "
              f"{statistics.median(loads):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="use a copy of this database instead")
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-n", type=int, default=7, help="runs of each timed step")
    parser.add_argument("--search-runs", type=int, default=5, help="runs per search word")
    parser.add_argument("--session-runs", type=int, default=5,
                        help="times the big session is opened")
    args = parser.parse_args()
    started = time.perf_counter()
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
          + f" ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="tokenopt-bench-") as tmp:
        path = prepare_db(Path(tmp), args)
        words, total, vocab_ms = pick_words(path)
        print(f"{len(words)} search words picked from the index vocabulary in "
              f"{vocab_ms / 1000:.1f} s (untimed below)")
        asyncio.run(bench_store(path, words, total, args))
        asyncio.run(bench_app(path, args))
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s; load average at the end: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
