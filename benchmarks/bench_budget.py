"""Budget meter and compaction: the per-keystroke estimate, /compact and a 5 MB paste.

Everything goes through the real ChatSession with real services and SQLite in a temp
dir (no model is called: nothing measured here needs one). Three measurements:

  estimate   the prompt's budget meter calls `session.estimate_next(draft)` on every
             keystroke, with the history's counts cached per message, so only the draft
             is counted. A session whose stored messages total >= 100k tokens (the test
             conversations, in order, no filler) is resumed (resume time reported: it
             counts every message once), then a 300-character prompt is typed one
             character at a time, estimating each prefix; then the same with a
             1,000-character paste already in the prompt and 300 characters typed after
             it (the longest draft the prompt holds: a longer or multi-line paste becomes
             an attachment, counted once). Targets: < 2 ms per keystroke.
  compact    `session.compact("/compact")` end to end (extractive compression in a
             worker thread, the summary applied, the ContextCompacted event stored) on a
             ~50k-token history; a fresh session (inserted and resumed untimed) every
             run. Target: < 200 ms.
  paste      `make_entry("user", text, 1, 5000)` on ~5 MB of log-like text (varied
             lines from a seeded generator): counts it and builds the reference that
             is sent instead. The app runs it in a worker thread.

Prints figures only (no asserts).

    .venv/bin/python benchmarks/bench_budget.py [--repeats 5] [-n 7] [--paste-runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

from tokenopt_tui.config import load_config  # noqa: E402
from tokenopt_tui.core.compression.compress import compress  # noqa: E402
from tokenopt_tui.core.context import make_entry  # noqa: E402
from tokenopt_tui.core.events import ContextCompacted  # noqa: E402
from tokenopt_tui.core.session import ChatSession  # noqa: E402
from tokenopt_tui.core.tokens import count_tokens  # noqa: E402
from tokenopt_tui.paths import Paths  # noqa: E402
from tokenopt_tui.ui.widgets.prompt import ATTACH_CHARS  # noqa: E402
from tokenopt_tui.wiring import Services, make_services  # noqa: E402

DATA = REPO / "tests" / "data" / "conversations"
PROMPT_CHARS = 300
PASTE_DRAFT_CHARS = ATTACH_CHARS


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * len(s)) - 1))]


def conversation_messages() -> list[tuple[str, str]]:
    """Every message of the test conversations, in file order."""
    out = []
    for path in sorted(DATA.glob("*.json")):
        out += [(m["role"], m["content"]) for m in json.loads(path.read_text())["messages"]]
    return out


def history_of(messages: list[tuple[str, str]], tokens: int) -> tuple[list[tuple[str, str]], int]:
    """The conversations' messages (repeated if need be) until they reach `tokens`."""
    history: list[tuple[str, str]] = []
    total = 0
    while total < tokens:
        for role, content in messages:
            history.append((role, content))
            total += count_tokens(content)
            if total >= tokens:
                break
    return history, total


def log_text(chars: int, seed: int = 7) -> str:
    """Worker/API log lines with varied ids, paths, timings and an occasional traceback."""
    rng = random.Random(seed)
    workers = [f"worker-{n}" for n in range(1, 13)]
    paths = ["/v1/payments", "/v1/invoices/sync", "/v1/users/{id}", "/healthz",
             "/v1/export/nightly", "/v1/reports/weekly", "/internal/queue/drain"]
    errors = ["timeout after 30 s", "connection reset by peer", "deadlock detected",
              "HTTP 502 from upstream billing-api", "disk quota exceeded on /var/lib/pg",
              "KeyError: 'customer_id'", "TLS handshake failed: certificate expired"]
    lines = ["Why does the nightly export keep failing? Full log from the box follows."]
    size = len(lines[0])
    t = 1_764_000_000  # seconds, 2025-11-24
    while size < chars:
        t += rng.randint(0, 3)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{rng.randint(0, 999):03d}Z"
        worker = rng.choice(workers)
        roll = rng.random()
        if roll < 0.80:
            line = (f"{stamp} {worker} INFO {rng.choice(['GET', 'POST', 'PUT'])} "
                    f"{rng.choice(paths).replace('{id}', str(rng.randint(1000, 99999)))} "
                    f"{rng.choice([200, 200, 200, 201, 204, 304])} {rng.randint(2, 900)}ms "
                    f"req={rng.getrandbits(48):012x} user={rng.randint(1, 50000)}")
        elif roll < 0.95:
            line = (f"{stamp} {worker} WARN job {rng.randint(1000, 9999)} retry "
                    f"{rng.randint(1, 5)}/5: {rng.choice(errors)}")
        else:
            job = rng.randint(1000, 9999)
            line = (f"{stamp} {worker} ERROR job {job} failed: {rng.choice(errors)}\n"
                    f"Traceback (most recent call last):\n"
                    f'  File "/srv/app/jobs/export.py", line {rng.randint(40, 400)}, in run\n'
                    f"    rows = fetch_batch(cursor, size={rng.choice([500, 1000, 5000])})\n"
                    f'  File "/srv/app/db/batch.py", line {rng.randint(10, 200)}, in fetch_batch\n'
                    f"    raise ExportError(f'batch {{offset}} failed')\n"
                    f"ExportError: batch {rng.randint(0, 10**6)} failed (job {job})")
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def services_in(root: Path) -> Services:
    paths = Paths(config_file=root / "config" / "config.toml", data_dir=root / "data",
                  cache_dir=root / "cache")
    return make_services(load_config(paths, env={}), paths, env={})


async def stored_session(services: Services, history: list[tuple[str, str]]) -> int:
    session = await ChatSession.start(services)
    for role, content in history:
        await services.store.add_message(session.session_id, role, content)
    return session.session_id


def keystrokes(session: ChatSession, prefix: str, typed: str, repeats: int) -> list[float]:
    """ms per `estimate_next` call, typing `typed` after `prefix` one character at a time."""
    times = []
    for _ in range(repeats):
        for i in range(1, len(typed) + 1):
            draft = prefix + typed[:i]
            t0 = time.perf_counter()
            session.estimate_next(draft)
            times.append((time.perf_counter() - t0) * 1000)
    return times


async def bench_estimate(services: Services, messages: list[tuple[str, str]],
                         args: argparse.Namespace) -> None:
    history, tokens = history_of(messages, args.history_tokens)
    session_id = await stored_session(services, history)
    resumes = []
    for _ in range(args.resumes):
        t0 = time.perf_counter()
        session = await ChatSession.resume(services, session_id)
        resumes.append((time.perf_counter() - t0) * 1000)
    print(f"history: {len(history)} stored messages, {tokens:,} tokens of content; "
          f"context.tokens() = {session.context.tokens():,}")
    print(f"resume (every message counted once): median {statistics.median(resumes):.0f} ms, "
          f"min {min(resumes):.0f} ms, max {max(resumes):.0f} ms over {args.resumes} runs")

    users = [c for r, c in messages if r == "user" and len(c) >= PROMPT_CHARS]
    typed = users[0][:PROMPT_CHARS]
    paste = "\n\n".join(c for _, c in messages)[:PASTE_DRAFT_CHARS]
    rows = [("300-char prompt, typed", "", typed),
            (f"{len(paste):,}-char paste + 300 typed", paste, typed)]
    print(f"\nper-keystroke estimate_next(draft), {args.repeats} repeats x {len(typed)} "
          f"keystrokes each (target < 2 ms)")
    print(f"{'draft':<30} {'p50':>8} {'p99':>8} {'max':>8}   (ms)   estimate at the end")
    for name, prefix, text in rows:
        keystrokes(session, prefix, text, 1)  # warm-up
        t = keystrokes(session, prefix, text, args.repeats)
        final = session.estimate_next(prefix + text)
        print(f"{name:<30} {statistics.median(t):8.3f} {pct(t, 0.99):8.3f} {max(t):8.3f}"
              f"          {final:,} tokens")


async def bench_compact(services: Services, messages: list[tuple[str, str]],
                        args: argparse.Namespace) -> None:
    history, _ = history_of(messages, args.compact_tokens)
    keep = services.config.compression.keep_last
    times, bare, events = [], [], []
    for run in range(args.n):
        session_id = await stored_session(services, history)
        session = await ChatSession.resume(services, session_id)
        source = session.context.messages()

        def direct(source=source) -> None:  # compress() alone, in this thread, same input
            t0 = time.perf_counter()
            compress(source, keep_last=keep)
            bare.append((time.perf_counter() - t0) * 1000)

        if run % 2:  # alternate which goes first
            direct()
        t0 = time.perf_counter()
        got = [e async for e in session.compact("/compact")]
        times.append((time.perf_counter() - t0) * 1000)
        if not run % 2:
            direct()
        events.append(next(e for e in got if isinstance(e, ContextCompacted)))
    last = events[-1]
    print(f"\n/compact through the session, {len(history)} messages, fresh session each run")
    print(f"compact(): median {statistics.median(times):.1f} ms, min {min(times):.1f} ms, "
          f"max {max(times):.1f} ms over {args.n} runs (target < 200 ms); "
          f"{last.tokens_before:,} -> {last.tokens_after:,} tokens "
          f"({last.tokens_before / max(1, last.tokens_after):.1f}x)")
    print(f"  compress() alone on the same messages, timed separately: median "
          f"{statistics.median(bare):.1f} ms, min {min(bare):.1f} ms, max {max(bare):.1f} ms")


def bench_paste(args: argparse.Namespace) -> None:
    text = log_text(int(args.paste_mb * 1_000_000))
    times, counting, entry = [], [], None
    for _ in range(args.paste_runs):
        t0 = time.perf_counter()
        entry = make_entry("user", text, 1, 5_000)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        count_tokens(text)
        counting.append(time.perf_counter() - t0)
    assert entry is not None
    print(f"\nmake_entry on {len(text) / 1e6:.1f} MB of log text ({text.count(chr(10)) + 1:,} "
          f"lines): median {statistics.median(times):.2f} s, min {min(times):.2f} s, "
          f"max {max(times):.2f} s over {args.paste_runs} runs; "
          f"{entry.tokens:,} tokens -> reference of {entry.view_tokens:,} tokens")
    print(f"  count_tokens() of the same text, timed separately: "
          f"median {statistics.median(counting):.2f} s")


async def main(args: argparse.Namespace) -> None:
    count_tokens("warm up")  # the one-time encoding load is not part of any figure
    messages = conversation_messages()
    with tempfile.TemporaryDirectory(prefix="tokenopt-bench-") as tmp:
        services = services_in(Path(tmp))
        await services.open_store()
        try:
            await bench_estimate(services, messages, args)
            await bench_compact(services, messages, args)
        finally:
            await services.aclose()
    bench_paste(args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history-tokens", type=int, default=100_000)
    parser.add_argument("--resumes", type=int, default=3, help="timed resumes of that history")
    parser.add_argument("--repeats", type=int, default=5, help="times each draft is typed")
    parser.add_argument("--compact-tokens", type=int, default=50_000)
    parser.add_argument("-n", type=int, default=7, help="compaction runs")
    parser.add_argument("--paste-mb", type=float, default=5.0)
    parser.add_argument("--paste-runs", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
