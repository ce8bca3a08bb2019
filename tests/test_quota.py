"""The free hosted quota: counted in a real SQLite file across restarts, the day's and
minute's arithmetic, the reserve kept for hard requests, the provider's X-RateLimit-*
headers read over a real socket, and the line in the Budget panel and in doctor."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import run_cli, write_config
from fault_server import FaultServer
from ui_helpers import FakeProvider, build_services, ready, screen_text, send, wait_idle

from tokenopt_tui.config import (
    OPENROUTER_URL,
    Config,
    ConfigError,
    Endpoint,
    QuotaSettings,
    Tier,
    load_config,
)
from tokenopt_tui.core.providers.base import ChatMessage, ProviderError
from tokenopt_tui.core.providers.openai_compat import OpenAICompatProvider
from tokenopt_tui.core.routing.quota import (
    FreeQuota,
    QuotaStatus,
    RateLimitReading,
    counts_against_quota,
    day_start,
    free_line,
    is_easy,
    is_loopback_url,
    left_this_minute,
    left_today,
    reading_from_headers,
    refusal,
    scope_of,
)
from tokenopt_tui.core.routing.router import (
    AttemptFailed,
    AttemptStarted,
    RouteFinished,
    Router,
    RouterItem,
)
from tokenopt_tui.paths import Paths
from tokenopt_tui.store import Store
from tokenopt_tui.ui.app import TokenoptApp

NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()
SETTINGS = QuotaSettings()  # 20 a minute, 50 a day, 10 kept for hard requests
MESSAGES = [ChatMessage("user", "hello")]


def fixed(at: float) -> Callable[[], float]:
    return lambda: at


async def fill(store: Store, count: int, *, start: float, step: float = 60.0,
               tier: int = 2) -> None:
    """`count` free requests, `step` seconds apart from `start`."""
    for i in range(count):
        await store.record_free_request(tier, OPENROUTER_URL, start + i * step)


# --- counting survives a restart ---------------------------------------------------------

async def test_free_requests_are_counted_in_the_store_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "quota.db"
    async with await Store.open(db) as store:
        quota = FreeQuota(SETTINGS, lambda: store, wall_clock=fixed(NOON))
        for _ in range(3):
            await quota.record(2, OPENROUTER_URL)
        await quota.record(3, OPENROUTER_URL)
        await store.record_free_request(2, OPENROUTER_URL, NOON - 86_400)  # yesterday
        await quota.observe(RateLimitReading(50, 45, NOON + 3600, NOON - 1))
    with sqlite3.connect(db) as conn:  # on disk, not in this process's memory
        assert conn.execute("SELECT COUNT(*) FROM free_requests").fetchone()[0] == 5
    conn.close()
    async with await Store.open(db) as store:  # a new process
        assert await store.free_requests_since(day_start(NOON)) == 4
        assert await store.free_requests_by_tier(day_start(NOON)) == {2: 3, 3: 1}
        assert (await store.free_quota_reports())["day"] == (50, 45, NOON + 3600, NOON - 1)
        status = await FreeQuota(SETTINGS, lambda: store, wall_clock=fixed(NOON)).status()
    # The provider said 45 left a second before the four requests: 41 now.
    assert (status.left_today, status.day_limit) == (41, 50)
    assert status.left_this_minute == SETTINGS.free_per_minute - 4


# --- the arithmetic (pure) -----------------------------------------------------------------

def test_the_day_and_the_minute_are_counted_down() -> None:
    assert day_start(NOON) == datetime(2026, 11, 20, tzinfo=UTC).timestamp()
    assert left_today(SETTINGS, 0) == 50
    assert left_today(SETTINGS, 37) == 13
    assert left_today(SETTINGS, 61) == 0  # never negative
    report = RateLimitReading(1000, 900, None, NOON)  # credits bought: the provider knows
    assert left_today(SETTINGS, 37, report, used_since_report=5) == 895
    assert left_this_minute(SETTINGS, 0) == 20
    assert left_this_minute(SETTINGS, 19) == 1
    assert left_this_minute(SETTINGS, 25) == 0
    assert left_this_minute(SETTINGS, 2, RateLimitReading(20, 4, NOON + 30, NOON), 1) == 3


def test_headers_are_read_and_placed_in_their_window() -> None:
    ms = int((NOON + 45) * 1000)
    minute = reading_from_headers({"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0",
                                   "X-RateLimit-Reset": str(ms)}, NOON)
    assert minute == RateLimitReading(20, 0, NOON + 45, NOON)
    assert scope_of(minute, SETTINGS) == "minute"
    day = reading_from_headers({"x-ratelimit-limit": "50", "x-ratelimit-remaining": "12",
                                "x-ratelimit-reset": str(int(NOON + 43_200))}, NOON)
    assert day is not None and scope_of(day, SETTINGS) == "day"
    no_reset = reading_from_headers({"x-ratelimit-limit": "1000",
                                     "x-ratelimit-remaining": "7"}, NOON)
    assert no_reset is not None and scope_of(no_reset, SETTINGS) == "day"
    assert reading_from_headers({"x-ratelimit-limit": "20"}, NOON) is None
    assert reading_from_headers({"x-ratelimit-limit": "a", "x-ratelimit-remaining": "1"},
                                NOON) is None


def test_the_policy_keeps_the_reserve_for_hard_requests() -> None:
    def status(left: int, minute: int = 20) -> QuotaStatus:
        return QuotaStatus(left, 50, minute, 20, NOON + 43_200, NOON + 30)

    assert refusal(status(11), SETTINGS, easy=True, now=NOON) is None
    at_reserve = refusal(status(10), SETTINGS, easy=True, now=NOON)
    assert at_reserve is not None and "10 of 50 left today, kept for hard" in at_reserve.reason
    assert refusal(status(10), SETTINGS, easy=False, now=NOON) is None
    used = refusal(status(0), SETTINGS, easy=False, now=NOON)
    assert used is not None
    assert used.reason == "free quota used: 50 of 50 today, resets 00:00 UTC"
    assert used.until == NOON + 43_200
    busy = refusal(status(30, minute=0), SETTINGS, easy=False, now=NOON)
    assert busy is not None and "20 requests in the last minute" in busy.reason
    assert busy.until == NOON + 30
    assert free_line(status(37)) == "free requests: 37 of 50 left today"


def test_only_free_hosted_endpoints_count() -> None:
    local = Tier(1, "local", False, (Endpoint("mlx", "embedded"),
                                     Endpoint("openai", "m", "http://127.0.0.1:8080/v1"),
                                     Endpoint("openai", "m2", "http://localhost:1234/v1"),
                                     Endpoint("openai", "m3", "http://[::1]:8000/v1")))
    hosted = Tier(2, "trinity", False, (Endpoint("openai", "a:free", OPENROUTER_URL),))
    paid = Tier(3, "kimi", True, (Endpoint("openai", "moonshotai/kimi-k2", OPENROUTER_URL),))
    assert not any(counts_against_quota(local, e) for e in local.endpoints)
    assert counts_against_quota(hosted, hosted.endpoints[0])
    assert not counts_against_quota(paid, paid.endpoints[0])
    assert is_loopback_url("http://127.0.0.5:9/v1") and not is_loopback_url(OPENROUTER_URL)
    tiers = (local, hosted, paid)
    assert is_easy(tiers, 1) and not is_easy(tiers, 2)


def test_the_quota_table_is_validated_with_its_key(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "c"), "XDG_DATA_HOME": str(tmp_path / "d")}
    assert load_config(Paths.from_env(env), env).quota == QuotaSettings(20, 50, 10)
    write_config(env, "[quota]\nfree_per_day = 1000\nreserve_for_hard = 100\n")
    assert load_config(Paths.from_env(env), env).quota == QuotaSettings(20, 1000, 100)
    write_config(env, "[quota]\nfree_per_minute = 0\n")
    with pytest.raises(ConfigError, match=r"config.toml: key 'quota.free_per_minute'"):
        load_config(Paths.from_env(env), env)
    write_config(env, "[quota]\nfree_per_day = 10\n")
    with pytest.raises(ConfigError, match=r"'quota.reserve_for_hard': 10 must be below "
                                          r"'quota.free_per_day' \(10\)"):
        load_config(Paths.from_env(env), env)
    write_config(env, "[quota]\nfree_per_hour = 3\n")
    with pytest.raises(ConfigError, match=r"unknown key 'quota\.free_per_hour'"):
        load_config(Paths.from_env(env), env)


# --- the router consults it ------------------------------------------------------------------

def quota_config() -> Config:
    return Config(tiers=(
        Tier(1, "local", False, (Endpoint("mlx", "embedded"),)),
        Tier(2, "trinity", False, (Endpoint("openai", "arcee-ai/trinity-mini:free",
                                            OPENROUTER_URL),)),
    ))


async def route(router: Router, start_tier: int) -> list[RouterItem]:
    return [i async for i in router.route(MESSAGES, start_tier=start_tier, max_tokens=16)]


async def test_an_easy_request_leaves_the_reserve_to_a_hard_one(tmp_path: Path) -> None:
    local = FakeProvider(fail_after=0, error="local model crashed")
    hosted = FakeProvider("hosted answer", model="arcee-ai/trinity-mini:free",
                          endpoint=OPENROUTER_URL)
    providers = {1: local, 2: hosted}
    async with await Store.open(tmp_path / "q.db") as store:
        await fill(store, 40, start=day_start(NOON) + 3600)  # 10 left: the reserve
        router = Router(quota_config(), lambda tier, _i: providers[tier],
                        wall_clock=fixed(NOON),
                        free_quota=FreeQuota(SETTINGS, lambda: store, wall_clock=fixed(NOON)))

        easy = await route(router, 1)
        skipped = [i for i in easy if isinstance(i, AttemptFailed) and i.kind == "quota"]
        assert len(skipped) == 1 and skipped[0].skipped and skipped[0].tier == 2
        assert "10 of 50 left today, kept for hard requests" in skipped[0].error
        assert not hosted.calls and isinstance(easy[-1], RouteFinished) and not easy[-1].ok

        hard = await route(router, 2)
        assert [i.tier for i in hard if isinstance(i, AttemptStarted)] == [2]
        assert hard[-1] == RouteFinished(True, 1, None) and len(hosted.calls) == 1
        assert await store.free_requests_since(day_start(NOON)) == 41  # counted

        await fill(store, 9, start=day_start(NOON) + 7200)  # 50 of 50
        used = await route(router, 2)
        [skip] = [i for i in used if isinstance(i, AttemptFailed) and i.tier == 2]
        assert skip.kind == "quota"
        assert skip.error == "free quota used: 50 of 50 today, resets 00:00 UTC"
        assert skip.cooldown_until == day_start(NOON) + 86_400
        assert len(hosted.calls) == 1


async def test_a_local_server_is_never_counted(tmp_path: Path) -> None:
    async with FaultServer() as server, await Store.open(tmp_path / "q.db") as store:
        config = Config(tiers=(Tier(1, "local", False, (
            Endpoint("openai", "ok/local", server.url, timeout_s=5),)),))
        provider = OpenAICompatProvider(config.tiers[0].endpoints[0], env={})
        router = Router(config, lambda _t, _i: provider,
                        free_quota=FreeQuota(SETTINGS, lambda: store))
        try:
            items = await route(router, 1)
        finally:
            await provider.aclose()
        assert items[-1] == RouteFinished(True, 1, None)
        assert await store.free_requests_since(0) == 0


# --- headers from a real HTTP server ---------------------------------------------------------

async def test_rate_limit_headers_are_read_through_the_real_provider(tmp_path: Path) -> None:
    reset_ms = int((time.time() + 6 * 3600) * 1000)
    async with FaultServer(ratelimit_reset_ms=reset_ms, ratelimit_limit=50,
                           ratelimit_remaining=37) as server:
        provider = OpenAICompatProvider(
            Endpoint("openai", "ratelimit_headers/a", server.url, timeout_s=5), env={})
        try:
            parts = [p async for p in provider.stream(MESSAGES, 16) if isinstance(p, str)]
            assert parts == FaultServer.answer("ratelimit_headers/a")
            day = provider.rate_limit
            assert day is not None and (day.limit, day.remaining) == (50, 37)
            assert day.reset_epoch == reset_ms / 1000
        finally:
            await provider.aclose()
        server.ratelimit_reset_ms = None  # the 429 resets in 60 s: the minute's window
        limited = OpenAICompatProvider(Endpoint("openai", "rate_limit/b", server.url,
                                                timeout_s=5), env={})
        try:
            with pytest.raises(ProviderError, match="429"):
                async for _ in limited.stream(MESSAGES, 16):
                    pass
        finally:
            await limited.aclose()
    minute = limited.rate_limit
    assert minute is not None and (minute.limit, minute.remaining) == (20, 0)
    async with await Store.open(tmp_path / "q.db") as store:
        quota = FreeQuota(SETTINGS, lambda: store)
        await quota.observe(day)
        await quota.observe(minute)
        status = await FreeQuota(SETTINGS, lambda: store).status()  # as another process
    assert (status.left_today, status.day_limit) == (37, 50)
    assert status.left_this_minute == 0


# --- shown: the Budget panel and doctor ------------------------------------------------------

async def test_the_budget_panel_shows_the_free_requests_left(tmp_path: Path) -> None:
    services = build_services(tmp_path)
    services.set_provider(2, FakeProvider("tier two answer", model="remote-model"))
    await services.open_store()
    now = time.time()
    await fill(services.store, 12, start=max(day_start(now), now - 3600), step=1.0)
    async with TokenoptApp(services).run_test(size=(120, 40)) as pilot:
        app = await ready(pilot)
        panel = app.chat.budget_panel
        assert panel.free_text == "free requests: 38 of 50 left today"
        app.chat.prompt.value = "/tier 2"
        await pilot.press("enter")
        await wait_idle(pilot)
        await send(pilot, "a question for the hosted tier")
        assert panel.free_text == "free requests: 37 of 50 left today"
        shown = panel.query_one(".budget-free")
        assert shown.display and shown.text == "free requests: 37 of 50 left today"
        assert "37 of 50 left today" in screen_text(app.export_screenshot())


async def test_the_panel_line_is_hidden_without_a_usable_free_tier(tmp_path: Path) -> None:
    services = build_services(tmp_path)  # no OPENROUTER_API_KEY: tiers 2 and 3 unusable
    async with TokenoptApp(services).run_test(size=(120, 40)) as pilot:
        app = await ready(pilot)
        assert app.chat.budget_panel.free_text is None
        assert not app.chat.budget_panel.query_one(".budget-free").display


async def test_doctor_prints_the_free_requests_left(xdg_env: dict[str, str]) -> None:
    paths = Paths.from_env(xdg_env)
    async with await Store.open(paths.db_file) as store:
        now = time.time()
        await fill(store, 13, start=max(day_start(now), now - 3600), step=1.0)
    result = await asyncio.to_thread(run_cli, ["doctor"], xdg_env, 60)
    assert result.returncode == 0, result.stderr
    assert "free requests: 37 of 50 left today" in result.stdout.splitlines()
