"""The tier router over real sockets: the real OpenAI-compatible provider against the
fault server on loopback. No patching of the client; the clocks are injected."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from unittest.mock import ANY

import openai  # noqa: F401 - loaded up front: its one-time import must not eat a 0.6 s timeout
import pytest
from conftest import free_port
from fault_server import FaultServer

from tokenopt_tui.config import (
    OPENROUTER_URL,
    Config,
    ConfigError,
    Endpoint,
    Tier,
    load_config,
    validate_chain,
)
from tokenopt_tui.core.providers.base import ChatMessage, Usage
from tokenopt_tui.core.providers.openai_compat import OpenAICompatProvider
from tokenopt_tui.core.routing.cooldown import Cooldowns, retry_after_from_headers
from tokenopt_tui.core.routing.router import (
    PAID_OFF,
    AttemptFailed,
    AttemptStarted,
    PaidEscalation,
    RouteFinished,
    Router,
    TextReceived,
    UsageReported,
    classify_fault,
)
from tokenopt_tui.paths import Paths

TIMEOUT_S = 0.6  # hang/stall modes must fail within this (plus a little)
WALL0 = 1_750_000_000.0
MESSAGES = [ChatMessage("user", "hello")]


class Clock:
    """Monotonic and wall clocks that move only when the test says so."""

    def __init__(self) -> None:
        self.t = 1000.0

    def mono(self) -> float:
        return self.t

    def wall(self) -> float:
        return WALL0 + self.t - 1000.0


def ep(server: FaultServer, model: str, **kw: Any) -> Endpoint:
    return Endpoint("openai", model, server.url, timeout_s=kw.pop("timeout_s", TIMEOUT_S), **kw)


def make_config(*tiers: tuple[str, bool, list[Endpoint]], **kw: Any) -> Config:
    return Config(tiers=tuple(Tier(i + 1, name, paid, tuple(eps))
                              for i, (name, paid, eps) in enumerate(tiers)), **kw)


class Providers:
    """provider_for(tier, index) with real OpenAICompatProviders, built once each."""

    def __init__(self, config: Config, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.env = env or {}
        self.built: dict[tuple[int, int], OpenAICompatProvider] = {}

    def __call__(self, tier: int, index: int) -> OpenAICompatProvider:
        key = (tier, index)
        if key not in self.built:
            endpoint = self.config.tier(tier).endpoints[index]
            self.built[key] = OpenAICompatProvider(endpoint, env=self.env)
        return self.built[key]

    async def aclose(self) -> None:
        for provider in self.built.values():
            await provider.aclose()


@pytest.fixture
async def server() -> AsyncIterator[FaultServer]:
    async with FaultServer(hang_s=5.0, lifetime_s=60.0) as running:
        yield running


@pytest.fixture
async def built() -> AsyncIterator[list[Providers]]:
    made: list[Providers] = []
    yield made
    for providers in made:
        await providers.aclose()


@pytest.fixture
def router_for(built: list[Providers]):
    def make(config: Config, env: dict[str, str] | None = None, **kw: Any) -> Router:
        providers = Providers(config, env)
        built.append(providers)
        return Router(config, providers, **kw)
    return make


async def run(router: Router, start_tier: int = 1, **kw: Any) -> list[Any]:
    return [item async for item in router.route(MESSAGES, start_tier=start_tier,
                                                max_tokens=16, **kw)]


def text_of(items: list[Any]) -> str:
    return "".join(i.text for i in items if isinstance(i, TextReceived))


def usages(items: list[Any]) -> list[Usage]:
    return [i.usage for i in items if isinstance(i, UsageReported)]


def of(items: list[Any], cls: type) -> list[Any]:
    return [i for i in items if isinstance(i, cls)]


def finished(items: list[Any]) -> RouteFinished:
    assert isinstance(items[-1], RouteFinished), items[-1]
    assert len(of(items, RouteFinished)) == 1
    return items[-1]


# --- the happy path ------------------------------------------------------------------

async def test_first_tier_answers_with_usage_and_one_attempt(server, router_for) -> None:
    server.cost = 0.00012
    router = router_for(make_config(("a", False, [ep(server, "ok/a")]),
                                    ("b", False, [ep(server, "ok/b")])))
    items = await run(router)
    assert text_of(items) == "".join(FaultServer.answer("ok/a"))
    assert of(items, AttemptStarted) == [AttemptStarted(1, "a", 0, "ok/a", server.url, False,
                                                        ANY)]
    assert usages(items) == [Usage(7, 3, cost_usd=0.00012)]
    assert finished(items) == RouteFinished(True, 1, None)
    assert isinstance(items[-2], UsageReported)
    assert server.counts == {"ok/a": 1}
    assert server.requests[0]["stream"] is True and "models" not in server.requests[0]


async def test_missing_usage_chunk_is_not_a_fault(server, router_for) -> None:
    router = router_for(make_config(("a", False, [ep(server, "no_usage/a")]),
                                    ("b", False, [ep(server, "ok/b")])))
    items = await run(router)
    assert text_of(items) == "".join(FaultServer.answer("no_usage/a"))
    assert usages(items)[0].estimated and finished(items) == RouteFinished(True, 1)


# --- every fault falls through to the next tier -------------------------------------------

FAULTS = [
    ("rate_limit", "rate_limit", ""),
    ("server_error", "server", ""),
    ("not_found", "not_found", ""),
    ("hang", "timeout", ""),
    ("stall", "timeout", "[stall/a]"),
    ("drop_mid_stream", "connection", "[drop_mid_stream/a] part1"),
    ("malformed", "malformed", "[malformed/a]"),
    ("empty", "empty", ""),
    ("zero_usage", "empty", ""),
]


@pytest.mark.parametrize(("mode", "kind", "partial"), FAULTS)
async def test_fault_falls_back_to_the_next_tier(server, router_for, mode, kind,
                                                 partial) -> None:
    router = router_for(make_config(("a", False, [ep(server, f"{mode}/a")]),
                                    ("b", False, [ep(server, "ok/b")])))
    started = time.monotonic()
    items = await run(router)
    elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT_S + 1.0, f"{mode} took {elapsed:.2f} s"
    failed = of(items, AttemptFailed)
    assert len(failed) == 1 and failed[0].kind == kind and not failed[0].skipped, failed
    assert failed[0].partial_text == partial and failed[0].tier == 1
    assert failed[0].cooldown_until is not None
    assert [a.tier for a in of(items, AttemptStarted)] == [1, 2]
    assert text_of(items) == partial + "".join(FaultServer.answer("ok/b"))
    assert finished(items) == RouteFinished(True, 2, None)
    assert server.counts == {f"{mode}/a": 1, "ok/b": 1}  # no retry of the failed endpoint


async def test_connection_refused_falls_back(server, router_for) -> None:
    dead = Endpoint("openai", "m", f"http://127.0.0.1:{free_port()}/v1", timeout_s=TIMEOUT_S)
    router = router_for(make_config(("a", False, [dead]), ("b", False, [ep(server, "ok/b")])))
    items = await run(router)
    assert [f.kind for f in of(items, AttemptFailed)] == ["connection"]
    assert finished(items) == RouteFinished(True, 2, None)


async def test_all_tiers_failing_ends_with_one_clear_error(server, router_for) -> None:
    router = router_for(make_config(("a", False, [ep(server, "server_error/a")]),
                                    ("b", False, [ep(server, "not_found/b")])))
    items = await run(router)
    end = finished(items)
    assert not end.ok and end.attempts == 2
    assert "server_error/a: server" in end.error and "not_found/b: not_found" in end.error
    assert text_of(items) == "" and not usages(items)


async def test_start_tier_skips_the_tiers_above(server, router_for) -> None:
    router = router_for(make_config(("a", False, [ep(server, "ok/a")]),
                                    ("b", False, [ep(server, "ok/b")])))
    items = await run(router, start_tier=2)
    assert [a.tier for a in of(items, AttemptStarted)] == [2] and server.counts == {"ok/b": 1}
    assert finished(await run(router, start_tier=9)).error == "no tier 9 is configured"


async def test_pinned_tier_does_not_fall_back(server, router_for) -> None:
    router = router_for(make_config(("a", False, [ep(server, "ok/a")]),
                                    ("b", False, [ep(server, "server_error/b"),
                                                  ep(server, "rate_limit/b2")]),
                                    ("c", False, [ep(server, "ok/c")])))
    items = await run(router, start_tier=2, pinned=True)
    end = finished(items)
    assert not end.ok and end.attempts == 2  # both endpoints of the pinned tier, nothing else
    assert server.counts == {"server_error/b": 1, "rate_limit/b2": 1}


async def test_unavailable_endpoint_is_skipped_without_an_attempt(server, router_for) -> None:
    keyed = ep(server, "ok/keyed", api_key_env="FAULT_KEY")
    router = router_for(make_config(("a", False, [keyed, ep(server, "ok/a2")])))
    items = await run(router)
    [skip] = of(items, AttemptFailed)
    assert skip.kind == "unavailable" and skip.skipped and "FAULT_KEY" in skip.error
    assert finished(items) == RouteFinished(True, 1, None) and "ok/keyed" not in server.counts


async def test_max_attempts_caps_a_long_failing_chain(server, router_for) -> None:
    tiers = [(f"t{i}", False, [ep(server, f"server_error/{i}a"), ep(server, f"server_error/{i}b")])
             for i in range(4)]
    router = router_for(make_config(*tiers), max_attempts=3)
    items = await run(router)
    end = finished(items)
    assert not end.ok and end.attempts == 3 and "gave up after 3 attempts" in end.error
    assert sum(server.counts.values()) == 3 and len(of(items, AttemptStarted)) == 3


async def test_closing_the_route_early_is_clean(server, router_for) -> None:
    router = router_for(make_config(("a", False, [ep(server, "ok/a")])))
    stream = router.route(MESSAGES, start_tier=1, max_tokens=16)
    async for item in stream:
        if isinstance(item, TextReceived):
            break
    await stream.aclose()
    assert finished(await run(router)).ok  # no cooldown from the abandoned request


# --- cooldowns -------------------------------------------------------------------------

async def test_cooldown_skips_a_failed_endpoint_until_the_clock_passes(server,
                                                                      router_for) -> None:
    clock = Clock()
    config = make_config(("a", False, [ep(server, "flaky")]), ("b", False, [ep(server, "ok/b")]))
    router = router_for(config, clock=clock.mono, wall_clock=clock.wall)
    server.modes["flaky"] = "server_error"
    first = await run(router)
    assert of(first, AttemptFailed)[0].cooldown_until == clock.wall() + 60

    second = await run(router)
    [skip] = of(second, AttemptFailed)
    assert skip.kind == "cooldown" and skip.skipped and skip.cooldown_until == WALL0 + 60
    assert finished(second) == RouteFinished(True, 1, None)
    assert server.counts["flaky"] == 1  # skipped, not called
    [state] = [s for s in router.endpoint_states() if s.model == "flaky"]
    assert not state.available and state.why == "cooling down"

    clock.t += 61  # past the first step: tried again, fails again → the next step (5 min)
    third = await run(router)
    assert server.counts["flaky"] == 2
    assert of(third, AttemptFailed)[0].cooldown_until == clock.wall() + 300

    clock.t += 301
    server.modes["flaky"] = "ok"  # recovers: success resets the steps
    assert finished(await run(router)) == RouteFinished(True, 1, None)
    server.modes["flaky"] = "server_error"
    assert of(await run(router), AttemptFailed)[0].cooldown_until == clock.wall() + 60


async def test_retry_after_sets_a_longer_cooldown(server, router_for) -> None:
    clock = Clock()
    server.retry_after = "600"
    server.ratelimit_reset_ms = int((clock.wall() + 120) * 1000)
    router = router_for(make_config(("a", False, [ep(server, "rate_limit/a")]),
                                    ("b", False, [ep(server, "ok/b")])),
                        clock=clock.mono, wall_clock=clock.wall)
    [failed] = of(await run(router), AttemptFailed)
    assert failed.kind == "rate_limit" and failed.retry_after_s == 600
    assert failed.cooldown_until == clock.wall() + 600
    clock.t += 300  # past the 1-minute step, still inside Retry-After
    assert of(await run(router), AttemptFailed)[0].kind == "cooldown"
    assert server.counts["rate_limit/a"] == 1


async def test_openrouter_ratelimit_reset_in_epoch_ms(server, router_for) -> None:
    clock = Clock()
    server.retry_after = None
    server.ratelimit_reset_ms = int((clock.wall() + 900) * 1000)
    router = router_for(make_config(("a", False, [ep(server, "rate_limit/a")]),
                                    ("b", False, [ep(server, "ok/b")])),
                        clock=clock.mono, wall_clock=clock.wall)
    [failed] = of(await run(router), AttemptFailed)
    assert failed.retry_after_s == pytest.approx(900, abs=0.01)
    assert failed.cooldown_until == pytest.approx(clock.wall() + 900, abs=0.01)


def test_retry_headers_parsing() -> None:
    now = WALL0
    assert retry_after_from_headers({"Retry-After": "12"}, now) == 12
    assert retry_after_from_headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"},
                                    1445412470.0) == 10
    assert retry_after_from_headers({"X-RateLimit-Reset": str(int((now + 30) * 1000))},
                                    now) == pytest.approx(30)
    assert retry_after_from_headers({"X-RateLimit-Reset": str(int(now + 40))}, now) == 40
    assert retry_after_from_headers({"Retry-After": "5", "X-RateLimit-Reset": "20"}, now) == 20
    assert retry_after_from_headers({"Retry-After": "99999999"}, now) == 24 * 3600
    assert retry_after_from_headers({"Retry-After": "soon"}, now) is None
    assert retry_after_from_headers({"X-RateLimit-Reset": str(int((now - 5) * 1000))}, now) == 0
    assert retry_after_from_headers({}, now) is None


def test_cooldown_steps_grow_and_stop_at_the_last() -> None:
    clock = Clock()
    cooldowns = Cooldowns((60, 300, 1500, 3600), clock.mono)
    key = ("openai", "u", "m")
    assert [cooldowns.failed(key) - clock.t for _ in range(6)] == [60, 300, 1500, 3600, 3600,
                                                                   3600]
    assert cooldowns.failed(key, hint_s=7200) - clock.t == 7200
    cooldowns.succeeded(key)
    assert cooldowns.remaining(key) == 0 and cooldowns.failed(key, hint_s=5) - clock.t == 60


def test_classify_uses_provider_attributes_when_present() -> None:
    class Future(RuntimeError):
        status = 503
        retry_after_s = 3.0

    assert classify_fault(Future("x")) == ("server", 503)
    Future.kind = "rate_limit"
    assert classify_fault(Future("x")) == ("rate_limit", 503)
    assert classify_fault(TimeoutError()) == ("timeout", None)
    assert classify_fault(ValueError("bad json")) == ("malformed", None)


# --- the paid guard -----------------------------------------------------------------------

def paid_chain(server: FaultServer, first: str = "server_error/free", **kw: Any) -> Config:
    return make_config(("free", False, [ep(server, first)]),
                       ("kimi", True, [ep(server, "ok/paid")]), **kw)


async def test_paid_tier_is_never_reached_when_paid_use_is_off(server, router_for) -> None:
    spent_calls = []

    async def spent() -> float:
        spent_calls.append(1)
        return 0.0

    router = router_for(paid_chain(server), spent_today_usd=spent)
    items = await run(router)
    end = finished(items)
    assert not end.ok and end.attempts == 1 and "paid use is off" in end.error
    blocked = [f for f in of(items, AttemptFailed) if f.kind == "paid_blocked"]
    assert len(blocked) == 1 and blocked[0].skipped and blocked[0].tier == 2
    assert not of(items, PaidEscalation) and "ok/paid" not in server.counts
    # The doctor reads the same decision, in the same words, from the router's states.
    [paid] = [s for s in router.endpoint_states() if s.tier == 2]
    assert not paid.available and paid.why == PAID_OFF == blocked[0].error
    assert PAID_OFF in end.error
    pinned = await run(router, start_tier=2, pinned=True)
    assert finished(pinned).attempts == 0 and "ok/paid" not in server.counts


async def test_daily_cap_blocks_paid_while_free_tiers_answer(server, router_for) -> None:
    async def spent() -> float:
        return 0.50

    config = paid_chain(server, paid_enabled=True, daily_cap_usd=0.50)
    router = router_for(config, spent_today_usd=spent)
    items = await run(router)
    assert "daily cap reached" in finished(items).error and "ok/paid" not in server.counts
    free_ok = router_for(paid_chain(server, "ok/free", paid_enabled=True), spent_today_usd=spent)
    assert finished(await run(free_ok)) == RouteFinished(True, 1, None)
    assert "ok/paid" not in server.counts


async def test_paid_use_without_a_spend_source_fails_closed(server, router_for) -> None:
    router = router_for(paid_chain(server, paid_enabled=True))
    assert "spend is unknown" in finished(await run(router)).error
    assert "ok/paid" not in server.counts


async def test_paid_escalation_is_announced_before_the_paid_attempt(server, router_for) -> None:
    async def spent() -> float:
        return 0.10

    server.cost = 0.0021
    router = router_for(paid_chain(server, paid_enabled=True), spent_today_usd=spent)
    items = await run(router)
    kinds = [type(i).__name__ for i in items if not isinstance(i, TextReceived)]
    assert kinds == ["AttemptStarted", "AttemptFailed", "PaidEscalation", "AttemptStarted",
                     "UsageReported", "RouteFinished"]
    escalation = of(items, PaidEscalation)[0]
    assert escalation.tier == 2 and escalation.model == "ok/paid"
    assert "tier 1 server" in escalation.reason
    assert of(items, AttemptStarted)[1].paid and usages(items)[0].cost_usd == 0.0021
    assert text_of(items) == "".join(FaultServer.answer("ok/paid"))


# --- config checks ------------------------------------------------------------------------

def test_validate_chain_rejects_a_paid_model_in_a_free_tier() -> None:
    bad = make_config(("free", False, [Endpoint("openai", "a:free", OPENROUTER_URL)]),
                      ("coder", False, [Endpoint("openai", "moonshotai/kimi-k2", OPENROUTER_URL)]))
    with pytest.raises(ConfigError, match=r"tiers\[1\]\.endpoints\[0\]\.model.*paid model"):
        validate_chain(bad)
    fine = replace(bad, tiers=(bad.tiers[0], replace(bad.tiers[1], paid=True)))
    validate_chain(fine)


def test_validate_chain_rejects_duplicate_endpoints_naming_both_keys() -> None:
    url = "http://127.0.0.1:9/v1"
    again = Endpoint("openai", "m", url + "/")  # same endpoint, spelled differently
    bad = make_config(("a", False, [Endpoint("openai", "m", url)]),
                      ("b", False, [Endpoint("openai", "x", url), again]))
    named = r"tiers\[1\]\.endpoints\[1\].*tiers\[0\]\.endpoints\[0\]"
    with pytest.raises(ConfigError, match=named):
        validate_chain(bad)


def test_default_chain_is_valid(tmp_path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "c"), "XDG_DATA_HOME": str(tmp_path / "d"),
           "XDG_CACHE_HOME": str(tmp_path / "k")}
    validate_chain(load_config(Paths.from_env(env), env))


async def test_provider_turns_malformed_sse_into_a_provider_error(server) -> None:
    from tokenopt_tui.core.providers.base import ProviderError

    provider = OpenAICompatProvider(ep(server, "malformed/x"), env={})
    try:
        with pytest.raises(ProviderError) as caught:
            async for _ in provider.stream(MESSAGES, 16):
                pass
    finally:
        await provider.aclose()
    assert caught.value.kind == "malformed" and caught.value.endpoint == server.url


def test_errors_are_quoted_on_one_line_cut_with_an_ellipsis() -> None:
    # The router's summaries, cooldown notes and session titles share one cut.
    from tokenopt_tui.core.text import one_line

    assert one_line("a\n  b\tc", 10) == "a b c"
    assert one_line("x" * 200, 160) == "x" * 159 + "…"
    assert len(one_line("word " * 100, 61)) == 61
    assert one_line("exactly ten", 11) == "exactly ten"


async def test_a_hard_request_asks_paid_before_the_weaker_free_tier(server, router_for) -> None:
    """Started on tier 2 (the classifier found it hard) with the free hosted tier out:
    the paid tier (enabled, within the cap, announced) answers before the local one; an
    easy request, or one with paid use off, still falls back to the local tier."""
    async def spent() -> float:
        return 0.10

    def chain(**kw: Any) -> Config:
        return make_config(("local", False, [ep(server, "ok/local")]),
                           ("free", False, [ep(server, "rate_limit/free")]),
                           ("kimi", True, [ep(server, "ok/paid")]), **kw)

    hard = await run(router_for(chain(paid_enabled=True), spent_today_usd=spent),
                     start_tier=2)
    assert [a.tier for a in of(hard, AttemptStarted)] == [2, 3]
    assert of(hard, PaidEscalation) and finished(hard).ok
    assert "ok/local" not in server.counts
    off = await run(router_for(chain(), spent_today_usd=spent), start_tier=2)
    assert [a.tier for a in of(off, AttemptStarted)] == [2, 1] and finished(off).ok
    easy = await run(router_for(chain(paid_enabled=True), spent_today_usd=spent))
    assert [a.tier for a in of(easy, AttemptStarted)] == [1]
