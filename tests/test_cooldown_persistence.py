"""Cooldowns kept in the SQLite store: a new Router (another process) on the same
database skips an endpoint that failed, a success clears it, and `tokenopt doctor`
shows "cooling down until". Real Store files, the fault server over real sockets."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai  # noqa: F401 - loaded up front: its one-time import must not eat a timeout
import pytest
from conftest import run_cli, write_config
from fault_server import FaultServer

from tokenopt_tui.config import Config, Endpoint, Tier, load_config
from tokenopt_tui.core.providers.base import ChatMessage
from tokenopt_tui.core.providers.openai_compat import OpenAICompatProvider
from tokenopt_tui.core.routing.cooldown import StoreCooldowns, endpoint_key, key_from_text, key_text
from tokenopt_tui.core.routing.router import AttemptFailed, RouteFinished, Router
from tokenopt_tui.paths import Paths
from tokenopt_tui.store import Store
from tokenopt_tui.store.migrations import latest_version
from tokenopt_tui.wiring import make_services

MESSAGES = [ChatMessage("user", "hello")]


class Clock:
    """Monotonic and wall clocks that move only when the test says so. Each Router
    gets its own monotonic origin, as separate processes would."""

    def __init__(self, wall0: float, mono0: float = 1000.0) -> None:
        self.wall0, self.mono0, self.t = wall0, mono0, 0.0

    def mono(self) -> float:
        return self.mono0 + self.t

    def wall(self) -> float:
        return self.wall0 + self.t


def two_tiers(server: FaultServer) -> Config:
    return Config(tiers=(
        Tier(1, "a", False, (Endpoint("openai", "flaky", server.url, timeout_s=5),)),
        Tier(2, "b", False, (Endpoint("openai", "ok/b", server.url, timeout_s=5),)),
    ))


@pytest.fixture
async def server() -> AsyncIterator[FaultServer]:
    async with FaultServer(lifetime_s=60.0) as running:
        yield running


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "tokenopt.db") as opened:
        yield opened


@pytest.fixture
async def new_router() -> AsyncIterator[Any]:
    """Builds Routers with real providers (closed at the end), one per 'process'."""
    providers: list[OpenAICompatProvider] = []

    def make(config: Config, store: Store, clock: Clock) -> Router:
        built: dict[tuple[int, int], OpenAICompatProvider] = {}

        def provider_for(tier: int, index: int) -> OpenAICompatProvider:
            if (tier, index) not in built:
                built[(tier, index)] = OpenAICompatProvider(
                    config.tier(tier).endpoints[index], env={})
                providers.append(built[(tier, index)])
            return built[(tier, index)]

        return Router(config, provider_for, clock=clock.mono, wall_clock=clock.wall,
                      cooldown_store=StoreCooldowns(lambda: store))

    yield make
    for provider in providers:
        await provider.aclose()


async def run(router: Router) -> list[Any]:
    return [item async for item in router.route(MESSAGES, start_tier=1, max_tokens=16)]


def failed(items: list[Any]) -> list[AttemptFailed]:
    return [i for i in items if isinstance(i, AttemptFailed)]


def test_key_text_round_trips() -> None:
    key = endpoint_key(Endpoint("openai", "we|ird \"model\"", "HTTPS://Example.org/v1/"))
    assert key_from_text(key_text(key)) == key == ("openai", "https://example.org/v1",
                                                   'we|ird "model"')
    with pytest.raises(ValueError):
        key_from_text('["only", "two"]')


async def test_failure_persists_new_router_skips_and_success_clears(
        server: FaultServer, store: Store, new_router: Any) -> None:
    config = two_tiers(server)
    key = key_text(endpoint_key(config.tiers[0].endpoints[0]))
    clock = Clock(wall0=1_750_000_000.0)
    server.modes["flaky"] = "server_error"

    first = await run(new_router(config, store, clock))
    assert [f.kind for f in failed(first)] == ["server"]
    assert first[-1] == RouteFinished(True, 2, None)  # tier 2 answered
    [(failures, until, error)] = (await store.load_cooldowns()).values()
    assert list(await store.load_cooldowns()) == [key]
    assert failures == 1 and until == pytest.approx(clock.wall() + 60)
    assert error is not None and error.startswith("server:") and "500" in error

    # Another process, another monotonic origin, 10 s later: still cooling down.
    clock2 = Clock(wall0=clock.wall() + 10, mono0=50.0)
    second = await run(new_router(config, store, clock2))
    [skip] = failed(second)
    assert skip.kind == "cooldown" and skip.skipped
    assert skip.cooldown_until == pytest.approx(1_750_000_060.0)
    assert second[-1] == RouteFinished(True, 1, None)
    assert server.counts["flaky"] == 1  # skipped, not called
    router2 = new_router(config, store, clock2)
    await router2.load_cooldowns()
    [state] = [s for s in router2.endpoint_states() if s.model == "flaky"]
    assert not state.available and state.why == "cooling down"
    assert state.cooldown_until == pytest.approx(1_750_000_060.0) and state.last_error == error

    # Past the first step, a third process tries again; it fails again: the failure
    # count carried over, so the cooldown takes the next step (5 min).
    clock3 = Clock(wall0=clock.wall() + 61, mono0=7.0)
    await run(new_router(config, store, clock3))
    assert server.counts["flaky"] == 2
    [(failures, until, _)] = (await store.load_cooldowns()).values()
    assert failures == 2 and until == pytest.approx(clock3.wall() + 300)

    # Past that step the endpoint answers: the stored cooldown is cleared.
    server.modes["flaky"] = "ok"
    clock4 = Clock(wall0=clock3.wall() + 301, mono0=3.0)
    fourth = await run(new_router(config, store, clock4))
    assert failed(fourth) == [] and fourth[-1] == RouteFinished(True, 1, None)
    assert await store.load_cooldowns() == {}
    fifth = await run(new_router(config, store, Clock(wall0=clock4.wall() + 1)))
    assert failed(fifth) == [] and server.counts["flaky"] == 4


async def test_expired_stored_cooldown_is_not_skipped(
        server: FaultServer, store: Store, new_router: Any) -> None:
    config = two_tiers(server)
    key = key_text(endpoint_key(config.tiers[0].endpoints[0]))
    await store.save_cooldown(key, 1, 1_750_000_000.0, "timeout: old")
    await store.save_cooldown('["openai","http://gone","x"]', 1, 2e9, None)  # not configured
    items = await run(new_router(config, store, Clock(wall0=1_750_000_001.0)))
    assert failed(items) == [] and items[-1] == RouteFinished(True, 1, None)
    assert key not in await store.load_cooldowns()


async def test_persistence_faults_are_logged_and_do_not_break_routing(
        server: FaultServer, tmp_path: Path, new_router: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    config = two_tiers(server)
    server.modes["flaky"] = "server_error"
    broken = await Store.open(tmp_path / "closed.db")
    await broken.close()  # every query now raises StoreError
    router = new_router(config, broken, Clock(wall0=time.time()))
    with caplog.at_level(logging.WARNING, logger="tokenopt_tui.core.routing.router"):
        first = await run(router)
        second = await run(router)  # the in-memory cooldown still works
    assert first[-1] == RouteFinished(True, 2, None)
    assert [f.kind for f in failed(second)] == ["cooldown"]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("could not load the endpoint cooldowns" in m and "closed" in m for m in messages)
    assert any("could not save the cooldown" in m and "flaky" in m for m in messages)


async def test_doctor_shows_cooling_down_until(server: FaultServer, xdg_env: dict[str, str],
                                               tmp_path: Path) -> None:
    db = tmp_path / "elsewhere" / "cool.db"
    write_config(xdg_env, (
        f'[paths]\ndb = "{db}"\n'
        '[[tiers]]\nname = "flaky"\nendpoints = [{kind = "openai", '
        f'base_url = "{server.url}", model = "flaky", timeout_s = 5}}]\n'
        '[[tiers]]\nname = "steady"\nendpoints = [{kind = "openai", '
        f'base_url = "{server.url}", model = "ok/b", timeout_s = 5}}]\n'))
    paths = Paths.from_env(xdg_env)
    config = load_config(paths, xdg_env)
    server.modes["flaky"] = "rate_limit"
    server.retry_after = "600"
    services = make_services(config, paths, xdg_env)
    try:
        await services.open_store()
        items = [i async for i in services.router.route(MESSAGES, start_tier=1, max_tokens=16)]
        assert [f.kind for f in failed(items)] == ["rate_limit"]
        assert items[-1] == RouteFinished(True, 2, None)
    finally:
        await services.aclose()

    result = await asyncio.to_thread(run_cli, ["doctor"], xdg_env, 60)
    assert result.returncode == 0, result.stderr
    assert f"{db} (ok, schema v{latest_version()})" in result.stdout
    [line] = [line for line in result.stdout.splitlines() if " flaky " in line]
    match = re.search(r"cooling down until (\d\d:\d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) "
                      r"\(last error: rate_limit: .*429", line)
    assert match, result.stdout
    [steady] = [line for line in result.stdout.splitlines() if "ok/b" in line]
    assert steady.rstrip().endswith("available")
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr.upper()
