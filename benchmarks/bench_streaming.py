"""Streaming cost per token: does it grow with the reply's length?

Mounts the real ChatScreen headless (run_test) and feeds 20,000 ~4-character
fragments of realistic Markdown at full speed through `ChatScreen.play_reply`,
the code path a real reply takes, run in an App worker as `TokenoptApp.send` does.
Prints ms/token for the first and the last 1,000 tokens (each window ends once the
screen has caught up) and their ratio.

    .venv/bin/python benchmarks/bench_streaming.py [--tokens 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from ui_helpers import FakeProvider, build_services  # noqa: E402

from tokenopt_tui.core.events import (  # noqa: E402
    Event,
    ReplyCompleted,
    TierChosen,
    TokenReceived,
    UsageRecorded,
)
from tokenopt_tui.ui.app import TokenoptApp  # noqa: E402
from tokenopt_tui.ui.widgets.message_list import MessageList  # noqa: E402
from tokenopt_tui.ui.widgets.reply import AssistantMessage  # noqa: E402

WORDS = (
    "token", "budget", "model", "tier", "local", "cache", "stream", "reply", "context",
    "window", "user", "session", "request", "compact", "skill", "router", "fallback",
    "latency", "cost", "prompt", "answer", "markdown", "the", "a", "of", "to", "and", "in",
    "is", "it", "that", "for", "on", "with", "as", "be", "this", "by",
)


def markdown_document(chars: int, seed: int = 0) -> str:
    """Paragraphs, lists and code fences, like a long model answer."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    section = 0
    while size < chars:
        kind = rng.random()
        if kind < 0.1:
            section += 1
            block = f"## Section {section}: {' '.join(rng.choices(WORDS, k=3))}"
        elif kind < 0.5:
            sentences = [" ".join(rng.choices(WORDS, k=rng.randint(8, 16))).capitalize() + "."
                         for _ in range(rng.randint(2, 5))]
            block = " ".join(sentences).replace(" model ", " **model** ", 1)
        elif kind < 0.75:
            marker = "-" if rng.random() < 0.6 else "1."
            block = "\n".join(f"{marker} {' '.join(rng.choices(WORDS, k=rng.randint(4, 10)))}"
                              f" `{rng.choice(WORDS)}`" for _ in range(rng.randint(3, 6)))
        else:
            lines = [f"def {rng.choice(WORDS)}_{i}(x):\n    return x * {i}  # "
                     f"{rng.choice(WORDS)}" for i in range(rng.randint(2, 6))]
            block = "```python\n" + "\n".join(lines) + "\n```"
        parts.append(block)
        size += len(block) + 2
    return "\n\n".join(parts)[:chars]


def fragments(text: str, tokens: int) -> list[str]:
    size = max(1, len(text) // tokens)
    pieces = [text[i:i + size] for i in range(0, size * tokens, size)]
    pieces[-1] += text[size * tokens:]
    return pieces


async def settle(app: TokenoptApp, collect: bool = False) -> None:
    """Let the UI catch up: write queued text and wait for two screen refreshes.

    With `collect`, also run the garbage collector, so that a window does not start
    with a full GC pass owed by earlier tokens.
    """
    replies = app.chat.query(AssistantMessage)
    if replies:
        await replies.last().flush()
    for _ in range(2):
        refreshed = asyncio.get_running_loop().create_future()
        app.chat.call_after_refresh(refreshed.set_result, None)
        await refreshed
    if collect:
        gc.collect()


async def reply_events(app: TokenoptApp, pieces: list[str], windows: dict[str, int],
                       size: int, marks: dict[str, float]) -> AsyncIterator[Event]:
    """A reply as the core yields it, timing windows of `size` tokens.

    A window starts on a settled screen and ends once the screen has caught up
    with its tokens, so rendering work is charged to the tokens that caused it.
    """
    starts = {start: name for name, start in windows.items()}
    ends = {start + size - 1: name for name, start in windows.items()}
    yield TierChosen(1, "local", "fake", "bench-model")
    for index, piece in enumerate(pieces):
        if index in starts:
            await settle(app, collect=True)
            marks[starts[index]] = time.perf_counter()
        yield TokenReceived(piece)
        await asyncio.sleep(0)  # each token is its own event-loop wake-up, as from a socket
        if index in ends:
            await settle(app)
            name = ends[index]
            marks[name] = (time.perf_counter() - marks[name]) / size * 1000
    yield UsageRecorded(1, "bench-model", 100, len(pieces), 0.0, 0.0, False, 100 + len(pieces))
    yield ReplyCompleted(1, "".join(pieces), False, 1, "bench-model")


def configure(flush_interval: float | None, chunk_chars: int | None,
              park_margin: float | None = None) -> None:
    if park_margin is not None:
        MessageList.PARK_MARGIN_SCREENS = park_margin
    if flush_interval is not None:
        AssistantMessage.FLUSH_INTERVAL_S = flush_interval
        AssistantMessage.MAX_FLUSH_INTERVAL_S = max(flush_interval,
                                                    AssistantMessage.MAX_FLUSH_INTERVAL_S)
        if flush_interval == 0:
            AssistantMessage.FLUSH_COST_FACTOR = 0.0
    if chunk_chars is not None:
        AssistantMessage.CHUNK_CHARS = chunk_chars


async def run(tokens: int, size: int = 1_000) -> dict[str, float]:
    """One streamed reply; returns ms/token per window and a few totals."""
    text = markdown_document(tokens * 4)
    pieces = fragments(text, tokens)
    windows = {"first": 0, "viewport_full": min(4_000, tokens - 2 * size),
               "last": tokens - size}
    marks: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        services = build_services(Path(tmp), FakeProvider())
        app = TokenoptApp(services)
        async with app.run_test(size=(120, 40)) as pilot:
            while app.session is None:
                await pilot.pause(0.01)
            started = time.perf_counter()
            events = reply_events(app, pieces, windows, size, marks)
            worker = app.run_worker(app.chat.play_reply(app.session, events),
                                    group="reply", exclusive=True, exit_on_error=False)
            await worker.wait()
            total_s = time.perf_counter() - started
            await pilot.pause()
            reply = app.chat.query_one(AssistantMessage)
            assert reply.source == text, "the widget shows the whole reply"
            return {**marks, "ratio": marks["last"] / marks["first"], "total_s": total_s,
                    "chars": len(text), "chunks": len(reply.chunks),
                    "parked": sum(slot.parked for slot in reply.slots)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="report the median of N runs")
    parser.add_argument("--flush-interval", type=float, default=None,
                        help="seconds between writes to the widget (0: every token)")
    parser.add_argument("--chunk-chars", type=int, default=None,
                        help="chunk size in characters (0: one Markdown widget)")
    parser.add_argument("--park-margin", type=float, default=None,
                        help="screens kept unparked above the viewport")
    args = parser.parse_args()
    configure(args.flush_interval, args.chunk_chars, args.park_margin)
    print(f"flush interval >= {AssistantMessage.FLUSH_INTERVAL_S * 1000:.0f} ms, "
          f"chunks of {AssistantMessage.CHUNK_CHARS:,} chars, {args.runs} run(s)")
    runs = []
    for number in range(args.runs):
        r = asyncio.run(run(args.tokens))
        runs.append(r)
        print(f"  run {number + 1}: first {r['first']:.3f}  viewport full "
              f"{r['viewport_full']:.3f}  last {r['last']:.3f} ms/token  "
              f"(ratio {r['ratio']:.2f}, whole reply {r['total_s']:.1f} s, "
              f"{r['chunks']} chunks, {r['parked']} parked)")
    med = {key: statistics.median(r[key] for r in runs)
           for key in ("first", "viewport_full", "last", "ratio", "total_s")}
    print(f"streamed {args.tokens:,} fragments ({runs[0]['chars']:,} chars) at full speed; "
          f"median of {len(runs)}:")
    print(f"first 1,000 tokens:          {med['first']:.3f} ms/token")
    print(f"tokens 4,000-4,999:          {med['viewport_full']:.3f} ms/token "
          "(the screen is full from here on)")
    print(f"last  1,000 tokens:          {med['last']:.3f} ms/token")
    print(f"ratio last/first:            {med['ratio']:.2f}")
    print(f"whole reply incl. final update: {med['total_s']:.1f} s "
          f"({med['total_s'] / args.tokens * 1000:.3f} ms/token)")


if __name__ == "__main__":
    main()
