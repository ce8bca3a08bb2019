"""Router overhead: what the tier router and ChatSession add to one request on loopback.

Starts the fault server (`tests/fault_server.py`, OpenAI SSE on 127.0.0.1) in this
process and times the same request ("ok/bench": 3 text chunks, a stop chunk, a usage
chunk) three ways, interleaved in shuffled order every round:

  direct   OpenAICompatProvider(...).stream() consumed to the end
  router   Router(config, provider_for).route() with one tier holding that endpoint
  session  ChatSession.send() with real services and SQLite in a temp dir (the path a
           user's request takes: messages, events, usage and the model call stored)

Each variant has its own provider (one AsyncOpenAI client each); the server closes the
connection after every response, so every request opens a new TCP connection in all
three. The session's history is reset before each send so the payload is the same
single "hello" message as the others (so each send also sets the session title, as a
first message does). Time is wall time from the call to the generator's end. Prints
figures only (no asserts); the issue's target is router − direct < 5 ms.

    .venv/bin/python benchmarks/bench_router_overhead.py [-n 300] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from fault_server import FaultServer  # noqa: E402

from tokenopt_tui.config import Config, Endpoint, Tier, load_config  # noqa: E402
from tokenopt_tui.core.context import Context  # noqa: E402
from tokenopt_tui.core.providers.base import ChatMessage, Usage  # noqa: E402
from tokenopt_tui.core.providers.openai_compat import OpenAICompatProvider  # noqa: E402
from tokenopt_tui.core.routing.router import RouteFinished, Router  # noqa: E402
from tokenopt_tui.core.session import ChatSession  # noqa: E402
from tokenopt_tui.paths import Paths  # noqa: E402
from tokenopt_tui.wiring import Services, make_services  # noqa: E402

MODEL = "ok/bench"
TEXT = "hello"
MESSAGES = [ChatMessage("user", TEXT)]
MAX_TOKENS = 200
VARIANTS = ("direct", "router", "session")

Runner = Callable[[], Awaitable[None]]


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * len(s)) - 1))]


async def build(server: FaultServer, root: Path) -> tuple[dict[str, Runner], list[object]]:
    endpoint = Endpoint("openai", MODEL, server.url, timeout_s=10)
    tiers = (Tier(1, "loopback", False, (endpoint,)),)

    direct_provider = OpenAICompatProvider(endpoint, env={})

    async def direct() -> None:
        parts, usage = [], None
        async for item in direct_provider.stream(list(MESSAGES), MAX_TOKENS):
            if isinstance(item, Usage):
                usage = item
            else:
                parts.append(item)
        if usage is None or not parts:
            raise RuntimeError("direct: incomplete reply")

    router_provider = OpenAICompatProvider(endpoint, env={})
    router = Router(Config(tiers=tiers), lambda tier, index: router_provider)

    async def routed() -> None:
        finished = None
        async for item in router.route(MESSAGES, start_tier=1, max_tokens=MAX_TOKENS):
            if isinstance(item, RouteFinished):
                finished = item
        if finished is None or not finished.ok:
            raise RuntimeError(f"router: {finished}")

    paths = Paths(config_file=root / "config" / "config.toml", data_dir=root / "data",
                  cache_dir=root / "cache")
    services: Services = make_services(load_config(paths, env={}), paths, env={})
    services.config = replace(services.config, tiers=tiers)
    await services.open_store()
    session = await ChatSession.start(services)

    async def chat() -> None:
        session.context = Context()  # same one-message payload as the other variants
        kinds = [type(e).__name__ async for e in session.send(TEXT)]
        if "ReplyCompleted" not in kinds or "ErrorOccurred" in kinds:
            raise RuntimeError(f"session: {kinds}")

    return {"direct": direct, "router": routed, "session": chat}, [
        direct_provider, router_provider, services]


async def measure(runners: dict[str, Runner], n: int, warmup: int,
                  seed: int) -> dict[str, list[float]]:
    rng = random.Random(seed)
    for _ in range(warmup):
        for name in VARIANTS:
            await runners[name]()
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    order = list(VARIANTS)
    for _ in range(n):
        rng.shuffle(order)
        for name in order:
            t0 = time.perf_counter()
            await runners[name]()
            times[name].append((time.perf_counter() - t0) * 1000)
    return times


async def profile(runners: dict[str, Runner], name: str, n: int, top: int) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        await runners[name]()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


async def main(args: argparse.Namespace) -> None:
    import openai  # noqa: F401 - the one-time import (~0.4 s) is not part of a request

    with tempfile.TemporaryDirectory(prefix="tokenopt-bench-") as tmp:
        async with FaultServer(lifetime_s=600.0) as server:
            runners, closers = await build(server, Path(tmp))
            try:
                t0 = time.perf_counter()
                times = await measure(runners, args.n, args.warmup, args.seed)
                elapsed = time.perf_counter() - t0
                report(times, args.n, elapsed)
                if args.profile:
                    for name in ("router", "session"):
                        print(f"\n--- cProfile: {name}, {args.n} requests, by cumulative time ---")
                        print(await profile(runners, name, args.n, args.top))
            finally:
                for closer in closers:
                    await closer.aclose()  # type: ignore[attr-defined]


def report(times: dict[str, list[float]], n: int, elapsed: float) -> None:
    print(f"{n} requests per variant, interleaved in shuffled order, {elapsed:.1f} s in all; "
          f"model {MODEL!r} (3 text chunks + stop + usage), one new TCP connection each")
    print(f"{'variant':<9} {'median':>9} {'p95':>9} {'min':>9} {'max':>9}   (ms)")
    for name in VARIANTS:
        t = times[name]
        print(f"{name:<9} {statistics.median(t):9.2f} {pct(t, 0.95):9.2f} "
              f"{min(t):9.2f} {max(t):9.2f}")
    print()
    base = times["direct"]
    for name in ("router", "session"):
        t = times[name]
        paired = [a - b for a, b in zip(t, base, strict=True)]  # same round
        print(f"{name} - direct: median {statistics.median(t) - statistics.median(base):+.2f} ms, "
              f"p95 {pct(t, 0.95) - pct(base, 0.95):+.2f} ms; "
              f"per-round paired difference median {statistics.median(paired):+.2f} ms")
    overhead = statistics.median(times["router"]) - statistics.median(base)
    verdict = "met" if overhead < 5 else "NOT met"
    print(f"target router overhead < 5 ms: {verdict} ({overhead:+.2f} ms at the median)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="requests per variant")
    parser.add_argument("--warmup", type=int, default=10, help="untimed rounds first")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true",
                        help="then cProfile n more requests of router and session")
    parser.add_argument("--top", type=int, default=30, help="rows of the profile to print")
    asyncio.run(main(parser.parse_args()))
